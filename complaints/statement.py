"""The office's public statement on a complaint: the published chronology (or the
draft, marked as such), the findings with the records they rest on, and the public
responses. Built once as data, rendered as a printable HTML page and as a PDF
(ReportLab: pure Python, no system libraries). Every text passes the redaction again,
so the statement never shows a full NIK or another resident's data."""

import io

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from complaints import chronology as assembler
from complaints.models import ChronologyStatus
from complaints.redaction import redact
from complaints.selectors import resident_names_in
from registry.calendar import office_zone

STATEMENT_LANGUAGE = "id"


def statement_data(complaint) -> dict:
    terms = assembler.private_terms(complaint) if complaint.application_id else set()

    def clean(text):
        names = resident_names_in(text, exclude_id=complaint.resident_id)
        return redact(text, private_terms=terms | names)[0]

    zone = office_zone(complaint.office)
    chronology = (complaint.chronologies.filter(status=ChronologyStatus.PUBLISHED).first()
                  or complaint.chronologies.filter(status=ChronologyStatus.DRAFT).first())
    with translation.override(STATEMENT_LANGUAGE):
        return {
            "office": complaint.office.name,
            "office_address": complaint.office.address,
            "reference": complaint.reference,
            "channel": str(complaint.get_channel_display()),
            "category": str(complaint.get_category_display()),
            "received": formats.date_format(complaint.received_at.astimezone(zone),
                                            "j F Y, H.i"),
            "printed": formats.date_format(timezone.now().astimezone(zone), "j F Y, H.i"),
            "draft": chronology is not None and chronology.status == ChronologyStatus.DRAFT,
            "chronology": [clean(p["text"]) for p in (chronology.points if chronology else [])],
            "findings": [{"claim": clean(f.claim), "verdict": str(f.get_verdict_display()),
                          "explanation": clean(f.explanation),
                          "records": [e["label"] for e in f.evidence]}
                         for f in complaint.findings.order_by("position")],
            "responses": [{"at": formats.date_format(r.at.astimezone(zone), "j F Y, H.i"),
                           "channel": str(r.get_channel_display()), "text": clean(r.text)}
                          for r in complaint.responses.order_by("at", "id")],
            "labels": {
                "title": _("Public statement on complaint %(reference)s")
                % {"reference": complaint.reference},
                "draft": _("DRAFT: the chronology is not published yet."),
                "received": _("Received"), "channel": _("Channel"),
                "category": _("Category"), "chronology": _("Chronology"),
                "findings": _("Findings"), "records": _("Records"),
                "responses": _("Responses"), "printed": _("Printed"),
            },
        }


def statement_pdf(data: dict) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus.flowables import HRFlowable

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["Italic"]
    labels = data["labels"]
    story = [Paragraph(escape(data["office"]), styles["Title"]),
             Paragraph(escape(data["office_address"]), small),
             HRFlowable(width="100%", color=colors.grey), Spacer(1, 0.3 * cm),
             Paragraph(escape(labels["title"]), styles["Heading2"]),
             Paragraph(escape(f"{labels['received']}: {data['received']} · "
                              f"{labels['channel']}: {data['channel']} · "
                              f"{labels['category']}: {data['category']}"), body)]
    if data["draft"]:
        story.append(Paragraph(f"<b>{escape(labels['draft'])}</b>", body))
    if data["chronology"]:
        story.append(Paragraph(escape(labels["chronology"]), styles["Heading3"]))
        story.append(ListFlowable([ListItem(Paragraph(escape(text), body))
                                   for text in data["chronology"]], bulletType="1"))
    if data["findings"]:
        story.append(Paragraph(escape(labels["findings"]), styles["Heading3"]))
        items = []
        for finding in data["findings"]:
            text = (f"<b>{escape(finding['claim'])}</b>: {escape(finding['verdict'])}. "
                    f"{escape(finding['explanation'])}<br/><i>{escape(labels['records'])}: "
                    f"{escape('; '.join(finding['records']))}</i>")
            items.append(ListItem(Paragraph(text, body)))
        story.append(ListFlowable(items, bulletType="1"))
    if data["responses"]:
        story.append(Paragraph(escape(labels["responses"]), styles["Heading3"]))
        for response in data["responses"]:
            story.append(Paragraph(f"<b>{escape(response['at'])} ({escape(response['channel'])})"
                                   f"</b><br/>{escape(response['text'])}", body))
    story.append(Spacer(1, 0.5 * cm))
    story.append(Paragraph(escape(f"{labels['printed']}: {data['printed']}"), small))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=labels["title"],
                                 author=data["office"], leftMargin=2 * cm, rightMargin=2 * cm,
                                 topMargin=2 * cm, bottomMargin=2 * cm)
    document.build(story)
    return buffer.getvalue()
