"""Staff pages of complaints: the printable statement (HTML and PDF) and attachments,
served only to staff who may see complaints of the complaint's office."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from complaints import selectors
from complaints.models import Attachment
from complaints.statement import statement_data, statement_pdf
from registry.models import Role


def staff_links(*, office, roles) -> list[tuple[str, str]]:
    """(label, url) pairs for the staff start page, for this user's roles in `office`."""
    if not set(roles) & {Role.PUBLIC_RELATIONS, Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR,
                         Role.OFFICE_ADMIN}:
        return []
    return [(_("Complaints"), reverse("admin:complaints_complaint_changelist")),
            (_("Complaint report"), reverse("admin:complaints_complaint_report"))]


def _complaint_for(request, pk):
    complaint = selectors.complaint_get_for_staff(user=request.user, pk=pk)
    if complaint is None or not request.user.has_perm("complaints.view_complaint",
                                                      complaint):
        raise Http404
    return complaint


@login_required
def statement(request, pk):
    """The statement as a page to print (the browser's print makes the paper copy)."""
    complaint = _complaint_for(request, pk)
    response = render(request, "complaints/statement.html",
                      {"data": statement_data(complaint)})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def statement_as_pdf(request, pk):
    complaint = _complaint_for(request, pk)
    response = HttpResponse(statement_pdf(statement_data(complaint)),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{complaint.reference}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def attachment(request, pk):
    found = Attachment.objects.filter(pk=pk).select_related("complaint").first()
    if found is None:
        raise Http404
    _complaint_for(request, found.complaint_id)
    try:
        handle = found.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=found.content_type, as_attachment=True)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
