"""Exports of admin lists: who exported which list, with which filters, how many rows.

The file itself is written by the admin (registry.admin_base.ListExportMixin); this
records it. A full NIK in an export is a disclosure like one on the resident's page,
so each resident whose full NIK left in a file gets a NikDisclosure naming the export:
the resident's access log shows it.
"""

import uuid
from collections import Counter

from django.db import transaction

from registry.models import ExportRecord, NikDisclosure

REASON_MAX = 200


@transaction.atomic
def export_record(*, user, list_name: str, query: str, file_format: str,
                  office_ids: set[int], rows_by_office: Counter,
                  disclosed: set[tuple[int, int]]) -> list[ExportRecord]:
    """One ExportRecord per office in the export's scope (`office_ids`, also those
    with no row), and one NikDisclosure per (office_id, resident_id) in `disclosed`."""
    batch = uuid.uuid4()
    full_nik_offices = {office_id for office_id, _resident_id in disclosed}
    records = ExportRecord.objects.bulk_create([
        ExportRecord(office_id=office_id, user=user, batch=batch, list_name=list_name,
                     query=query[:2000], file_format=file_format,
                     row_count=rows_by_office.get(office_id, 0),
                     full_niks=office_id in full_nik_offices)
        for office_id in sorted(office_ids)
    ])
    reason = f"Export {list_name} {batch}"[:REASON_MAX]
    NikDisclosure.objects.bulk_create([
        NikDisclosure(office_id=office_id, resident_id=resident_id, user=user, reason=reason)
        for office_id, resident_id in sorted(disclosed)
    ], batch_size=500)
    return records
