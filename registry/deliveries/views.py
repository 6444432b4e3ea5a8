"""Staff pages of hand-over and delivery: the courier's route on a phone, and the
proof photos, served only to staff of the delivery's office."""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from registry import tenancy
from registry.calendar import office_today
from registry.deliveries import selectors
from registry.deliveries.models import DeliveryAttempt, FailReason, Relation
from registry.deliveries.services.couriers import (
    delivery_deliver,
    delivery_fail,
    record_route_access,
)
from registry.errors import DomainError
from registry.models import AccessKind, Office, Role
from registry.privacy import mask_phone
from registry.services.access_log import record_access

LOGIN_URL = "deliveries:login"


def staff_links(*, office, roles) -> list[tuple[str, str]]:
    """(label, url) pairs for the staff start page, for this user's roles in `office`."""
    links = []
    if Role.COURIER in roles:
        links.append((_("My deliveries today"), reverse("deliveries:route")))
    return links


class DeliverForm(forms.Form):
    recipient_name = forms.CharField(label=gettext_lazy("Received by (full name)"),
                                     max_length=120)
    recipient_relation = forms.ChoiceField(label=gettext_lazy("Relation to the holder"),
                                           choices=Relation.choices)
    receipt_code = forms.CharField(label=gettext_lazy("Receipt code"), max_length=20)
    photo = forms.FileField(label=gettext_lazy("Photo of the hand-over"))
    latitude = forms.FloatField(widget=forms.HiddenInput, required=False)
    longitude = forms.FloatField(widget=forms.HiddenInput, required=False)


class FailForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Why"), choices=FailReason.choices)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)
    latitude = forms.FloatField(widget=forms.HiddenInput, required=False)
    longitude = forms.FloatField(widget=forms.HiddenInput, required=False)


class CourierLoginView(auth_views.LoginView):
    template_name = "deliveries/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("deliveries:route")


def _courier_offices(user) -> set[int]:
    offices = tenancy.staff_offices_with_role(user, Role.COURIER)
    if not offices:
        raise PermissionDenied
    return offices


@login_required(login_url=LOGIN_URL)
def courier_route(request):
    """Today's route (or ?date=YYYY-MM-DD), stop by stop, with the forms to record each
    hand-over or failure. Built for a phone held in one hand."""
    office_ids = _courier_offices(request.user)
    office = Office.objects.filter(id__in=office_ids).order_by("code").first()
    try:
        day = date.fromisoformat(request.GET["date"]) if request.GET.get("date") else \
            office_today(office)
    except ValueError:
        day = office_today(office)
    stops = list(selectors.route_for_courier(user=request.user, day=day))
    for stop in stops:
        stop.phone_visible = selectors.delivery_phone_visible(delivery=stop,
                                                              courier=request.user)
        stop.masked_phone = mask_phone(stop.application.resident.phone)
    record_route_access(request.user, stops)
    return render(request, "deliveries/courier.html", {
        "day": day, "office": office, "stops": stops, "deliver_form": DeliverForm(),
        "fail_form": FailForm(), "done": sum(1 for s in stops if s.status != "assigned"),
    })


def _back(request):
    return redirect(reverse("deliveries:route") + (
        f"?date={request.POST['date']}" if request.POST.get("date") else ""))


def _form_error(request, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else field
        messages.error(request, f"{label}: {' '.join(errors)}")


@login_required(login_url=LOGIN_URL)
@require_POST
def courier_deliver(request, pk):
    _courier_offices(request.user)
    form = DeliverForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_error(request, form)
        return _back(request)
    data = form.cleaned_data
    try:
        delivery_deliver(
            delivery_id=pk, courier=request.user, recipient_name=data["recipient_name"],
            recipient_relation=data["recipient_relation"], receipt_code=data["receipt_code"],
            photo=data["photo"], latitude=data.get("latitude"),
            longitude=data.get("longitude"))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Delivered. Thank you."))
    return _back(request)


@login_required(login_url=LOGIN_URL)
@require_POST
def courier_fail(request, pk):
    _courier_offices(request.user)
    form = FailForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
        return _back(request)
    data = form.cleaned_data
    try:
        delivery_fail(delivery_id=pk, courier=request.user, reason=data["reason"],
                      note=data.get("note", ""), latitude=data.get("latitude"),
                      longitude=data.get("longitude"))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Recorded. The card goes out again on the next "
                                    "working day."))
    return _back(request)


@login_required(login_url=LOGIN_URL)
def proof_photo(request, pk):
    """A delivery photo, for staff of its office who may see deliveries (and the
    courier who took it). Everyone else gets 404, as for any other office's object."""
    attempt = (DeliveryAttempt.objects.select_related("delivery__application")
               .filter(pk=pk).exclude(photo="").first())
    if attempt is None:
        raise Http404
    allowed = request.user.has_perm("deliveries.view_delivery", attempt) or (
        attempt.courier_id == request.user.id
        and tenancy.staff_has_role(request.user, attempt.office_id, Role.COURIER))
    if not allowed:
        raise Http404
    try:
        handle = attempt.photo.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    record_access(request.user, kind=AccessKind.DELIVERY_PHOTO,
                  residents=[attempt.delivery.application.resident_id],
                  office=attempt.office_id, target=attempt.delivery.application.number)
    response = FileResponse(handle, content_type=(
        "image/png" if attempt.photo.name.endswith(".png") else "image/jpeg"))
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
