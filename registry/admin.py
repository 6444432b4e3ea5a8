"""Admin of the registry core. State changes go through registry.services."""

from auditlog.mixins import LogEntryAdminMixin
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import (
    admin_breaches,  # noqa: F401 - registers the breaches' admin
    desk,
    selectors,
    tenancy,
)
from registry.admin_access import AccessLogMixin
from registry.admin_base import (
    DomainErrorAsMessageMixin,
    ListExportMixin,
    NoAddMixin,
    NoChangeMixin,
    NoDeleteMixin,
    NotFoundNotRedirect,
    OfficeScopedAdmin,
    OfficeScopedInline,
    ReadOnlyMixin,
    report_domain_error,
)
from registry.errors import DomainError
from registry.models import (
    AccessKind,
    AccessLog,
    Application,
    AuditEntry,
    CaseEvent,
    Closure,
    CorrectionField,
    CorrectionRequest,
    CorrectionStatus,
    ExportRecord,
    Lane,
    NikDisclosure,
    Notification,
    NotificationDelivery,
    Office,
    Requirement,
    Resident,
    RetentionRun,
    Role,
    Service,
    ServiceCombination,
    StaffMembership,
    TurnAway,
    WorkingHours,
)
from registry.nik import NikError, parse_nik
from registry.privacy import mask_phone
from registry.service_sets import combination_key
from registry.services.access_log import role_label
from registry.services.cases import application_add_note, application_open
from registry.services.corrections import correction_answer
from registry.services.offices import closure_add, office_create
from registry.services.residents import (
    resident_nik_disclose,
    resident_nik_verify,
    resident_register,
)
from registry.services.staff import (
    staff_membership_grant,
    staff_membership_revoke,
    staff_user_create,
)
from registry.validators import normalize_phone

# The residents an access-log row shows on its page (a list page may have shown 100).
LOG_RESIDENTS_SHOWN = 100


class WorkingHoursInline(OfficeScopedInline, admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(Office)
class OfficeAdmin(OfficeScopedAdmin):
    office_lookup = "id"
    list_display = ["code", "name", "timezone", "is_active"]
    search_fields = ["code", "name"]
    inlines = [WorkingHoursInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "timezone", "address", "latitude", "longitude",
                           "is_active"]}),
        (gettext_lazy("Public contacts"), {"fields": ["website", "instagram", "facebook",
                                                     "x_account", "youtube", "email",
                                                     "whatsapp"]}),
    ]

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return super().has_view_permission(request)
        return request.user.has_perm("registry.view_office", tenancy.InOffice(obj.id)) or \
            request.user.has_perm("registry.change_office", tenancy.InOffice(obj.id))

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return request.user.has_perm("registry.change_office", tenancy.InOffice(obj.id))

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and obj is not None

    def has_add_permission(self, request):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return ["code", "timezone"]
        return []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = office_create(
            code=obj.code, name=obj.name, timezone_name=obj.timezone, address=obj.address,
        )
        obj.pk = created.pk
        obj.__dict__.update(Office.objects.filter(pk=created.pk).values()[0])

    @staticmethod
    def hours_changed(formsets) -> bool:
        """Whether the working-hours inline was changed (appointments' admin acts on it)."""
        return any(formset.model is WorkingHours and formset.has_changed()
                   for formset in formsets)


@admin.register(Closure)
class ClosureAdmin(OfficeScopedAdmin):
    list_display = ["date", "reason", "created_by", "created_at"]
    list_filter = ["date"]
    date_hierarchy = "date"
    fields = ["office", "date", "reason"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        closure = closure_add(office=obj.office, day=obj.date, reason=obj.reason,
                              by=request.user)
        obj.pk = closure.pk


@admin.register(Lane)
class LaneAdmin(OfficeScopedAdmin):
    list_display = ["letter", "name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["letter", "name"]


class RequirementInline(OfficeScopedInline, admin.TabularInline):
    model = Requirement
    fk_name = "service"
    extra = 0
    fields = ["position", "code", "name", "valid_days", "how_to_obtain", "lost_instead"]


@admin.register(Service)
class ServiceAdmin(OfficeScopedAdmin):
    list_display = ["code", "name", "lane", "estimated_minutes", "needs_central",
                    "home_delivery", "holder_in_person", "is_active"]
    list_filter = ["lane", "home_delivery", "holder_in_person", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["lane", "office"]
    inlines = [RequirementInline]


class ServiceCombinationForm(forms.ModelForm):
    class Meta:
        model = ServiceCombination
        fields = ["office", "services", "lane", "estimated_minutes"]

    def clean(self):
        data = super().clean()
        office, services = data.get("office"), list(data.get("services") or [])
        if office is None:
            return data
        if len(services) < 2:
            self.add_error("services", _("Choose two services or more."))
        if any(service.office_id != office.id for service in services):
            self.add_error("services", _("Choose services of this office."))
        lane = data.get("lane")
        if lane is not None and lane.office_id != office.id:
            self.add_error("lane", _("Choose a lane of this office."))
        key = combination_key(service.code for service in services)
        clash = ServiceCombination.objects.filter(office=office, key=key)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error("services", _("This combination is already set."))
        self.instance.key = key
        return data


@admin.register(ServiceCombination)
class ServiceCombinationAdmin(OfficeScopedAdmin):
    """How several services done in one visit are served: the lane and the minutes.
    Without a row the first service's lane and the sum of the minutes apply."""

    form = ServiceCombinationForm
    list_display = ["__str__", "lane", "estimated_minutes"]
    list_select_related = ["lane", "office"]
    filter_horizontal = ["services"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(OfficeScopedAdmin):
    """Roles in the staff member's offices. Staff see their offices' memberships; an
    office administrator grants, changes and removes them only for the accounts they
    manage (tenancy.staff_manageable_by), in the offices they administer, and never a
    role only a superuser grants. Other accounts' memberships are read-only to them."""

    list_display = ["user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user", "office"]
    fields = ["office", "user", "role"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "user":
            field.queryset = tenancy.staff_manageable_by(request.user)
        elif db_field.name == "office":
            field.queryset = Office.objects.filter(
                id__in=tenancy.staff_administered_office_ids(request.user))
        return field

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            kwargs["choices"] = [c for c in Role.choices
                                 if c[0] in tenancy.ROLES_OFFICE_ADMINS_GRANT]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or tenancy.staff_may_manage(request.user, obj.user))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or tenancy.staff_may_manage(request.user, obj.user))

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            try:
                # The new role first: the account stays manageable while it changes.
                membership = staff_membership_grant(
                    user=obj.user, office=obj.office, role=obj.role, by=request.user)
            except DomainError as exc:  # a forged POST past the form's choices
                raise Http404 from exc
            if change and membership.pk != obj.pk:
                staff_membership_revoke(
                    membership=StaffMembership.objects.get(pk=obj.pk))
        obj.pk = membership.pk

    def delete_model(self, request, obj):
        staff_membership_revoke(membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            staff_membership_revoke(membership=membership)


class ResidentForm(forms.ModelForm):
    """Checks the NIK and phone with the same rules the service applies, so a mistake
    shows on its field."""

    def clean_nik(self):
        try:
            return parse_nik(self.cleaned_data["nik"]).nik
        except NikError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc

    def clean_phone(self):
        phone = self.cleaned_data.get("phone")
        if not phone:
            return ""
        try:
            return normalize_phone(phone)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc

    class Meta:
        model = Resident
        fields = ["nik", "name", "birth_date", "sex", "phone", "email", "address",
                  "kelurahan", "kecamatan", "latitude", "longitude", "domicile_office",
                  "language"]


class NikRevealForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why do you need the full NIK?"),
                             max_length=200)


class PhoneBindStartForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("The resident's phone"), max_length=32)


class PhoneBindConfirmForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("The code the resident received"),
                           max_length=16)


@admin.register(Resident)
class ResidentAdmin(AccessLogMixin, NotFoundNotRedirect, admin.ModelAdmin):
    """Residents are national records: staff see those domiciled in their office or
    with a case file there. The NIK is masked; the full NIK is shown on request, with
    a reason, and the viewing is recorded. A self-registered resident carries a "not
    verified" mark until staff check the KTP-el; a phone is bound only by the code
    sent to it and read back at the desk (registry.desk), never by typing it in."""

    form = ResidentForm
    access_resident_path = "pk"
    access_kind = AccessKind.RESIDENT
    list_display = ["name", "masked_nik_display", "birth_date", "phone", "kecamatan",
                    "kelurahan", "nik_needs_review", "identity_verified", "phone_bound"]
    list_filter = ["nik_needs_review", ("identity_verified_at", admin.EmptyFieldListFilter),
                   ("phone_bound_at", admin.EmptyFieldListFilter), "sex"]
    # "=nik": a full NIK typed at the desk finds the resident (by its keyed hash: the NIK
    # is encrypted, registry.encryption); four digits find the NIKs ending in them
    # (get_search_results); any other part of a NIK finds nothing.
    search_fields = ["=nik", "name", "=phone"]
    list_select_related = ["domicile_office"]
    actions = ["mark_nik_verified", "mark_identity_verified"]

    def access_residents(self, request, objects: list) -> list[tuple[int | None, int]]:
        """Each resident with the office of the user's through which they see them: the
        domicile, else the only office they work in, else the first where the resident
        has a case (one query for all the rows that need it)."""
        office_ids = tenancy.staff_office_ids(request.user)
        only = next(iter(office_ids)) if len(office_ids) == 1 else None
        elsewhere = [obj.pk for obj in objects
                     if obj.domicile_office_id not in office_ids and only is None]
        by_case: dict[int, int] = {}
        if elsewhere:
            for resident_id, office_id in (
                    Application.objects.filter(resident_id__in=elsewhere,
                                               office_id__in=office_ids)
                    .order_by("-office_id").values_list("resident_id", "office_id")):
                by_case[resident_id] = office_id  # the lowest office id is kept
        return [(obj.domicile_office_id if obj.domicile_office_id in office_ids
                 else only or by_case.get(obj.pk), obj.pk) for obj in objects]

    def access_office_id(self, request, obj) -> int | None:
        return self.access_residents(request, [obj])[0][0]

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset,
                                                                search_term)
        term = search_term.strip()
        if len(term) == 4 and term.isascii() and term.isdigit():
            found = found | queryset.filter(nik_last4=term)
        return found, may_have_duplicates

    @admin.display(description=gettext_lazy("NIK"))
    def masked_nik_display(self, obj):
        return obj.masked_nik

    @admin.display(description=gettext_lazy("KTP-el checked"), boolean=True,
                   ordering="identity_verified_at")
    def identity_verified(self, obj):
        return obj.identity_verified_at is not None

    @admin.display(description=gettext_lazy("Phone bound"), boolean=True,
                   ordering="phone_bound_at")
    def phone_bound(self, obj):
        return obj.phone_bound_at is not None

    def get_queryset(self, request):
        return selectors.residents_for_staff(user=request.user).select_related(
            "domicile_office")

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None:
            fields = [f for f in fields if f != "nik"]
            fields.insert(0, "masked_nik_display")
            fields += ["nik_needs_review", "nik_reviewed_by", "nik_reviewed_at",
                       "identity_verified_at", "identity_verified_by", "phone_bound_at",
                       "app_registered_at", "created_at"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = ["masked_nik_display", "nik_needs_review", "nik_reviewed_by",
                    "nik_reviewed_at", "identity_verified_at", "identity_verified_by",
                    "phone_bound_at", "app_registered_at", "created_at"]
        if obj.phone_bound_at is not None:
            # A bound phone receives the sign-in codes: it changes only by the code sent
            # to the new phone ("Bind a phone"), never by typing another number here.
            readonly.append("phone")
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "domicile_office":
            kwargs["queryset"] = tenancy.staff_offices(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        resident = resident_register(
            nik=data["nik"], name=data["name"], birth_date=data["birth_date"],
            sex=data.get("sex") or "", phone=data.get("phone") or "",
            email=data.get("email") or "", address=data.get("address") or "",
            kelurahan=data.get("kelurahan") or "", kecamatan=data.get("kecamatan") or "",
            domicile_office=data.get("domicile_office"), language=data.get("language") or "id",
            verified_by=request.user,
        )
        obj.pk = resident.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as exc:
            report_domain_error(request, exc)
            return redirect(request.get_full_path())

    def get_urls(self):
        return [
            path("<int:pk>/nik/", self.admin_site.admin_view(self.reveal_nik_view),
                 name="registry_resident_reveal_nik"),
            path("<int:pk>/identity/", self.admin_site.admin_view(self.verify_identity_view),
                 name="registry_resident_verify_identity"),
            path("<int:pk>/phone/", self.admin_site.admin_view(self.bind_phone_view),
                 name="registry_resident_bind_phone"),
            *super().get_urls(),
        ]

    def _resident_office(self, request, pk, *, perm: str, perm_object=None
                         ) -> tuple[Resident, Office]:
        """The resident and the office of the user's that works with them (their
        domicile, else one where they have a case): 404 for a resident of no office of
        the user's, 403 for staff whose role there lacks `perm` (checked on
        perm_object(office), by default on the office itself)."""
        resident = self.get_queryset(request).filter(pk=pk).first()
        if resident is None:
            raise Http404
        offices = tenancy.staff_offices(request.user)
        office = (resident.domicile_office if resident.domicile_office in offices
                  else offices.filter(applications__resident=resident).first())
        if office is None:
            raise PermissionDenied
        checked = perm_object(office) if perm_object else tenancy.InOffice(office.id)
        if not request.user.has_perm(perm, checked):
            raise PermissionDenied
        return resident, office

    def _desk_office(self, request, pk) -> tuple[Resident, Office]:
        """For the desk's identity work: the role there must change residents."""
        return self._resident_office(request, pk, perm="registry.change_resident")

    def verify_identity_view(self, request, pk):
        """POST: staff checked the resident's KTP-el (registry.desk)."""
        if request.method != "POST":
            return redirect("admin:registry_resident_change", pk)
        resident, office = self._desk_office(request, pk)
        try:
            desk.resident_identity_verify(office=office, resident=resident, by=request.user)
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            messages.success(request, _("%(name)s: KTP-el checked.") % {"name": resident.name})
        return redirect("admin:registry_resident_change", pk)

    def bind_phone_view(self, request, pk):
        """Bind the resident's phone at the desk: a code goes to the phone the resident
        gives, and the phone is bound when staff enter the code the resident reads them
        (registry.desk). The same for changing a bound phone."""
        resident, office = self._desk_office(request, pk)
        start_form, confirm_form = PhoneBindStartForm(), PhoneBindConfirmForm()
        if request.method == "POST":
            confirming = "code" in request.POST
            form = (PhoneBindConfirmForm if confirming else PhoneBindStartForm)(request.POST)
            if form.is_valid():
                try:
                    if confirming:
                        desk.resident_phone_bind_confirm(
                            office=office, resident=resident, code=form.cleaned_data["code"],
                            by=request.user)
                    else:
                        challenge = desk.resident_phone_bind_start(
                            office=office, resident=resident,
                            phone=form.cleaned_data["phone"], by=request.user)
                except DomainError as exc:
                    report_domain_error(request, exc)
                else:
                    if confirming:
                        messages.success(request, _("%(name)s's phone is bound.")
                                         % {"name": resident.name})
                        return redirect("admin:registry_resident_change", pk)
                    messages.success(request, _(
                        "A code was sent to %(phone)s. Ask the resident to read it to you.")
                        % {"phone": mask_phone(challenge.phone)})
                return redirect("admin:registry_resident_bind_phone", pk)
            if confirming:
                confirm_form = form
            else:
                start_form = form
        resident.refresh_from_db()
        pending = desk.resident_phone_bind_pending(office=office, resident=resident)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "resident": resident, "start_form": start_form,
            "confirm_form": confirm_form, "pending": pending,
            "pending_phone": mask_phone(pending.phone) if pending else "",
            "bound_phone": mask_phone(resident.phone) if resident.phone_bound_at else "",
            "title": _("Bind the phone of %(name)s") % {"name": resident.name},
        }
        return render(request, "registry/admin/bind_phone.html", context)

    def reveal_nik_view(self, request, pk):
        resident, office = self._resident_office(
            request, pk, perm="registry.view_full_nik",
            perm_object=lambda office: NikDisclosure(office=office))
        full_nik = None
        form = NikRevealForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            full_nik = resident_nik_disclose(
                resident=resident, office=office, user=request.user,
                reason=form.cleaned_data["reason"])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "resident": resident, "form": form, "full_nik": full_nik,
            "title": _("Full NIK of %(name)s") % {"name": resident.name},
        }
        return render(request, "registry/admin/reveal_nik.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        resident = self.get_queryset(request).filter(pk=object_id).first()
        extra_context = {**(extra_context or {}),
                         "reveal_nik_url": reverse("admin:registry_resident_reveal_nik",
                                                   args=[object_id]),
                         "bind_phone_url": reverse("admin:registry_resident_bind_phone",
                                                   args=[object_id]),
                         "verify_identity_url": reverse(
                             "admin:registry_resident_verify_identity", args=[object_id]),
                         "not_verified": resident is not None
                         and resident.identity_verified_at is None}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=gettext_lazy("Mark the NIK as verified against documents"),
                  permissions=["change"])
    def mark_nik_verified(self, request, queryset):
        count = 0
        for resident in queryset.filter(nik_needs_review=True):
            resident_nik_verify(resident=resident, by=request.user)
            count += 1
        messages.success(request, _("%(count)d NIK(s) marked verified.") % {"count": count})

    @admin.action(description=gettext_lazy("KTP-el checked: mark the identity verified"),
                  permissions=["change"])
    def mark_identity_verified(self, request, queryset):
        count = 0
        for resident in queryset.filter(identity_verified_at__isnull=True):
            _resident, office = self._desk_office(request, resident.pk)
            desk.resident_identity_verify(office=office, resident=resident, by=request.user)
            count += 1
        messages.success(request, _("%(count)d resident(s) marked verified.")
                         % {"count": count})


class CaseEventInline(NoAddMixin, NoChangeMixin, OfficeScopedInline, admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "message_display", "actor", "by_resident"]
    readonly_fields = fields
    ordering = ["at", "id"]

    @admin.display(description=gettext_lazy("message"))
    def message_display(self, obj):
        return obj.message


class ApplicationForm(forms.ModelForm):
    note = forms.CharField(label=gettext_lazy("Add a note to the timeline"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    class Meta:
        model = Application
        fields = ["office", "resident", "service", "channel"]


@admin.register(Application)
class ApplicationAdmin(AccessLogMixin, ListExportMixin, OfficeScopedAdmin):
    access_kind = AccessKind.APPLICATION
    form = ApplicationForm
    list_display = ["number", "resident_name", "service", "channel", "status", "created_at"]
    list_filter = ["status", "channel", "service__lane", "service"]
    search_fields = ["number", "=resident__nik", "resident__name"]
    list_select_related = ["resident", "service", "service__lane", "office"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["resident"]
    export_resident_path = "resident"

    @admin.display(description=gettext_lazy("resident"), ordering="resident__name")
    def resident_name(self, obj):
        return obj.resident.name

    def get_inlines(self, request, obj):
        return [CaseEventInline] if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["status"]
        return ["number", "office", "resident", "service", "services_display", "channel",
                "status", "rebook_until", "created_at", "closed_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["office", "resident", "service", "channel"]
        return ["number", "office", "resident", "service", "services_display", "channel",
                "status", "rebook_until", "created_at", "closed_at", "note"]

    @admin.display(description=gettext_lazy("services of the visit"))
    def services_display(self, obj):
        return obj.service_set.name

    def save_model(self, request, obj, form, change):
        if change:
            note = form.cleaned_data.get("note")
            if note:
                application_add_note(application=obj, note=note, by=request.user)
            return
        created = application_open(
            office=obj.office, resident=obj.resident, service=obj.service,
            channel=obj.channel, by=request.user)
        obj.pk = created.pk

    def save_formset(self, request, form, formset, change):
        # The timeline inline is read-only: events are written by services only.
        return


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    list_display = ["at", "application", "kind", "message_display", "actor"]
    list_filter = ["kind"]
    search_fields = ["application__number"]
    list_select_related = ["application", "application__service", "actor", "office"]
    date_hierarchy = "at"

    @admin.display(description=gettext_lazy("message"))
    def message_display(self, obj):
        return obj.message


class NotificationDeliveryInline(NoAddMixin, OfficeScopedInline, admin.TabularInline):
    model = NotificationDelivery
    extra = 0
    can_delete = False
    fields = ["channel", "address", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    list_display = ["created_at", "resident", "title", "kind", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "=resident__nik"]
    list_select_related = ["resident", "office"]
    date_hierarchy = "created_at"
    inlines = [NotificationDeliveryInline]
    readonly_fields = ["office", "resident", "application", "kind", "title", "body", "link",
                       "created_at", "read_at"]
    exclude = ["dedup_key"]

    # Messages about complaints say who complained (and, for a confidential one, that
    # is known only to the office's supervisors and the assignee, who read them with
    # the complaint): outside the supervisors' offices they are not listed here.
    COMPLAINT_READERS = (Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        readers = tenancy.staff_offices_with_role(request.user, *self.COMPLAINT_READERS)
        return queryset.exclude(Q(kind__startswith="complaint.") & ~Q(office_id__in=readers))


@admin.register(NikDisclosure)
class NikDisclosureAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    list_display = ["at", "user", "resident", "reason"]
    list_select_related = ["user", "resident", "office"]
    date_hierarchy = "at"


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    """Who exported which list, with which filters, how many rows (registry.admin_base.
    ListExportMixin); read-only, each office its own."""

    list_display = ["at", "user", "list_name", "file_format", "row_count", "full_niks",
                    "query"]
    list_filter = ["list_name", "file_format", "full_niks"]
    search_fields = ["user__username", "list_name"]
    list_select_related = ["user", "office"]
    date_hierarchy = "at"


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    """Who looked at residents' personal data, each office its own (registry.services.
    access_log): append-only, nobody changes or deletes a row here."""

    list_display = ["at", "user", "role_display", "kind", "target", "resident_count",
                    "reason"]
    list_filter = ["kind", "role"]
    search_fields = ["user__username", "target", "reason"]
    list_select_related = ["user", "office"]
    date_hierarchy = "at"
    fields = ["at", "user", "office", "role_display", "kind", "target", "reason",
              "resident_count", "residents_shown"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("role"), ordering="role")
    def role_display(self, obj):
        return role_label(obj.role)

    @admin.display(description=gettext_lazy("residents shown"))
    def residents_shown(self, obj):
        residents = Resident.objects.filter(
            pk__in=obj.entries.values("resident_id")).order_by("name")[:LOG_RESIDENTS_SHOWN]
        return ", ".join(str(resident) for resident in residents) or "-"


# django-auditlog's own admin of the entries shows every office's: replaced below.
if admin.site.is_registered(AuditEntry):
    admin.site.unregister(AuditEntry)


@admin.register(AuditEntry)
class AuditEntryAdmin(LogEntryAdminMixin, ReadOnlyMixin, OfficeScopedAdmin):
    """What staff changed in settings, accounts, memberships, the catalogue and closures,
    with the values before and after (registry.audit). Each office's overseers see its
    entries, and those of the staff accounts that work there; nobody edits or deletes
    an entry."""

    list_display = ["timestamp", "actor", "action", "content_type", "object_repr",
                    "msg_short"]
    list_filter = ["action", ("content_type", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["object_repr", "actor__username"]
    list_select_related = ["actor", "content_type", "office"]
    date_hierarchy = "timestamp"
    fields = ["timestamp", "actor", "office", "action", "content_type", "object_repr",
              "msg", "remote_addr"]
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        office_ids = tenancy.staff_office_ids(request.user)
        staff_ids = StaffMembership.objects.filter(office_id__in=office_ids).values("user_id")
        accounts = Q(office__isnull=True,
                     content_type=ContentType.objects.get_for_model(get_user_model()),
                     object_id__in=staff_ids)
        return queryset.filter(Q(office_id__in=office_ids) | accounts)

    def has_view_permission(self, request, obj=None):
        if obj is not None and obj.office_id is None:
            # A staff account's entry: seen by those who may see the audit in an office
            # the account works in (get_queryset keeps only those).
            return bool(tenancy.offices_with_perm(request.user, "registry.view_auditentry"))
        return super().has_view_permission(request, obj)


@admin.register(TurnAway)
class TurnAwayAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    """Residents sent away at the door, with the reason (recorded on the front desk's
    page, registry:turn-away); read-only, each office its own."""

    list_display = ["at", "resident", "service", "reason", "note", "application", "actor"]
    list_filter = ["reason"]
    list_select_related = ["resident", "service", "application", "actor", "office"]
    date_hierarchy = "at"


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The retention sweep's record (registry.services.retention): for the deployment's
    superusers only, as the limits are the same for every office; nobody changes it."""

    list_display = ["started_at", "finished_at", "dry_run", "counts_display"]
    list_filter = ["dry_run"]
    fields = ["started_at", "finished_at", "dry_run", "days", "counts"]
    readonly_fields = fields
    date_hierarchy = "started_at"

    @admin.display(description=gettext_lazy("removed"))
    def counts_display(self, obj):
        return ", ".join(f"{name}: {count}" for name, count in obj.counts.items())

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

class CorrectionAnswerForm(forms.ModelForm):
    answer = forms.ChoiceField(
        label=gettext_lazy("answer"), widget=forms.RadioSelect,
        choices=[(CorrectionStatus.CORRECTED, CorrectionStatus.CORRECTED.label),
                 (CorrectionStatus.REJECTED, CorrectionStatus.REJECTED.label)],
        help_text=gettext_lazy(
            "Corrected: a domicile address, kelurahan, kecamatan or e-mail takes the "
            "requested value at once. A name, birth date or sex is civil-registry data: "
            "change it in the civil registry after checking the documents (KK, birth "
            "certificate); this answer only records it."))

    class Meta:
        model = CorrectionRequest
        fields = ["reply"]
        widgets = {"reply": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"reply": gettext_lazy(
            "The resident reads this in the app's inbox: say what was changed, or why "
            "not and what to bring to the desk.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "reply" in self.fields:  # answered, or read by a role that cannot answer
            self.fields["reply"].required = True
            self.fields["reply"].max_length = 2000


class OpenFirstFilter(admin.SimpleListFilter):
    """The desk's work list: open requests unless another status is chosen."""

    title = gettext_lazy("status")
    parameter_name = "state"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*CorrectionStatus.choices, (self.ALL, _("All"))]

    def choices(self, changelist):
        current = self.value() or CorrectionStatus.OPEN
        for value, label in self.lookup_choices:
            yield {"selected": current == value, "display": label,
                   "query_string": changelist.get_query_string({self.parameter_name: value})}

    def queryset(self, request, queryset):
        value = self.value() or CorrectionStatus.OPEN
        if value == self.ALL:
            return queryset
        return queryset.filter(status=value)


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(AccessLogMixin, DomainErrorAsMessageMixin, NoAddMixin,
                             NoDeleteMixin, OfficeScopedAdmin):
    """Residents' requests to correct their data, asked in the app
    (registry.services.corrections): the front desk answers each with a reply; the
    resident's data is shown, never edited here."""

    form = CorrectionAnswerForm
    list_display = ["created_at", "resident_name", "field", "requested_value", "status",
                    "handled_at"]
    list_filter = [OpenFirstFilter, "field"]
    search_fields = ["=resident__nik", "resident__name"]
    list_select_related = ["resident", "office"]
    date_hierarchy = "created_at"
    SHOWN = ["office", "resident_name", "masked_nik", "field", "current_value",
             "requested_value", "note", "created_at"]
    ANSWERED = ["status", "reply", "handled_by", "handled_at"]

    @admin.display(description=gettext_lazy("resident"), ordering="resident__name")
    def resident_name(self, obj):
        return obj.resident.name

    @admin.display(description=gettext_lazy("NIK"))
    def masked_nik(self, obj):
        return obj.resident.masked_nik

    @admin.display(description=gettext_lazy("value held now"))
    def current_value(self, obj):
        if obj.field == CorrectionField.OTHER:
            return "-"
        return getattr(obj.resident, obj.field) or "-"

    def has_change_permission(self, request, obj=None):
        # An answered request is shown, not answered again.
        if obj is not None and obj.status != CorrectionStatus.OPEN:
            return False
        return super().has_change_permission(request, obj)

    def _answering(self, request, obj) -> bool:
        return obj is not None and self.has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        if self._answering(request, obj):
            return [*self.SHOWN, "answer", "reply"]
        return [*self.SHOWN, *self.ANSWERED]

    def get_readonly_fields(self, request, obj=None):
        if self._answering(request, obj):
            return self.SHOWN
        return [*self.SHOWN, *self.ANSWERED]

    def save_model(self, request, obj, form, change):
        correction_answer(request=obj, by=request.user, status=form.cleaned_data["answer"],
                          reply=form.cleaned_data["reply"])


if admin.site.is_registered(get_user_model()):
    admin.site.unregister(get_user_model())


class StaffUserCreationForm(AdminUserCreationForm):
    """An office administrator's new account starts with a role in an office they
    administer (an account with no office is a superuser's to manage)."""

    office = forms.ModelChoiceField(label=gettext_lazy("office"), queryset=Office.objects.none())
    role = forms.ChoiceField(label=gettext_lazy("role"), choices=())
    manager = None  # the office administrator; set per request by StaffUserAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = Office.objects.filter(
            id__in=tenancy.staff_administered_office_ids(self.manager))
        self.fields["role"].choices = [c for c in Role.choices
                                       if c[0] in tenancy.ROLES_OFFICE_ADMINS_GRANT]


@admin.register(get_user_model())
class StaffUserAdmin(NotFoundNotRedirect, UserAdmin):
    """Staff accounts. An office administrator sees, creates and changes only the
    accounts they manage (tenancy.staff_manageable_by: every membership in an office
    they administer); any other account is not found on every page, its password
    page included. They never set groups, permissions or superuser status, and do not
    delete accounts (deactivating keeps who did what)."""

    list_display = ["username", "first_name", "last_name", "is_active", "is_staff"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=tenancy.staff_manageable_by(request.user).values("pk"))

    def _admin_of_some_office(self, request):
        return bool(tenancy.staff_administered_office_ids(request.user))

    def _manages(self, request, obj):
        return self._admin_of_some_office(request) and (
            obj is None or tenancy.staff_may_manage(request.user, obj))

    def has_module_permission(self, request):
        return self._admin_of_some_office(request)

    def has_view_permission(self, request, obj=None):
        return self._manages(request, obj)

    def has_add_permission(self, request):
        return self._admin_of_some_office(request)

    def has_change_permission(self, request, obj=None):
        return self._manages(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        if obj is None:
            return [*fieldsets, (capfirst(gettext_lazy("role")), {"fields": ["office", "role"]})]
        # Office administrators manage names and passwords; groups, permissions and
        # superuser status follow from memberships and are not theirs to set.
        return [(None, {"fields": ["username", "password"]}),
                (gettext_lazy("Personal info"), {"fields": ["first_name", "last_name",
                                                            "email"]}),
                (gettext_lazy("Status"), {"fields": ["is_active"]})]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None and not request.user.is_superuser:
            kwargs["form"] = type("StaffUserCreationForm", (StaffUserCreationForm,),
                                  {"manager": request.user})
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if change or request.user.is_superuser:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        user = staff_user_create(
            username=obj.username,
            password=data["password1"] if data["set_usable_password"] else None,
            office=data["office"], role=data["role"], by=request.user)
        obj.pk = user.pk
