"""Every admin page of every app, on the demo data: it answers, it does not query per
row, and office staff see only their office's rows. New admins are covered by being
registered; their demo data (each app's demo.py) gives the pages rows to show."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from registry.admin_base import _model_has_office
from registry.models import AuditEntry, Office, StaffMembership

# A changelist costs a fixed number of queries (session, user, memberships, count,
# page, filters' choices); this bound fails as soon as a column queries per row.
MAX_CHANGELIST_QUERIES = 25


@pytest.fixture
def demo(db):
    call_command("load_demo", quiet=True)


def _admin_urls():
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        yield model, model_admin, f"admin:{opts.app_label}_{opts.model_name}"


def test_every_changelist_answers_without_per_row_queries(demo, client,
                                                          django_assert_max_num_queries):
    client.force_login(get_user_model().objects.get(username="admin"))
    for _model, model_admin, name in _admin_urls():
        url = reverse(f"{name}_changelist")
        with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES, info=url):
            response = client.get(url)
        assert response.status_code == 200, url
        first = model_admin.get_queryset(response.wsgi_request).first()
        if first is not None:
            change = client.get(reverse(f"{name}_change", args=[first.pk]))
            assert change.status_code == 200, f"{url} {first.pk}"
        if model_admin.has_add_permission(response.wsgi_request):
            assert client.get(reverse(f"{name}_add")).status_code == 200, url


@pytest.mark.parametrize("username", ["kota.admin", "kota.frontdesk", "kota.operator",
                                      "kota.supervisor", "kota.humas"])
def test_office_staff_see_only_their_office_on_every_page(demo, client, username):
    kota = Office.objects.get(code="3275")
    client.force_login(get_user_model().objects.get(username=username))
    for model, _model_admin, name in _admin_urls():
        response = client.get(reverse(f"{name}_changelist"))
        if response.status_code == 403:
            continue  # the role has no access to this page at all
        assert response.status_code == 200, name
        rows = list(response.context["cl"].result_list)
        if model is AuditEntry:
            # A staff account's entries carry no office: seen where the account works.
            members = set(StaffMembership.objects.filter(office=kota)
                          .values_list("user_id", flat=True))
            assert {row.office_id for row in rows} <= {kota.id, None}, name
            assert {row.object_id for row in rows if row.office_id is None} <= members, name
        elif _model_has_office(model):
            assert {row.office_id for row in rows} <= {kota.id}, name
        elif model is Office:
            assert {row.id for row in rows} <= {kota.id}, name
