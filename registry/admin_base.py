"""Admin classes that keep every office's data to itself.

Every ModelAdmin of an office-owned model derives from OfficeScopedAdmin: its list,
search, actions, change form, history and the choices of every foreign key are
limited to the staff member's offices, and object permissions are checked against
the staff member's role in the object's own office (registry.auth).
A test walks the admin registry and fails for any office-owned model whose admin
does not derive from these classes.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404
from django.shortcuts import redirect

from registry import tenancy
from registry.errors import DomainError
from registry.models import Office, Resident


def _model_has_office(model) -> bool:
    try:
        field = model._meta.get_field("office")
    except Exception:  # FieldDoesNotExist
        return False
    return isinstance(field, models.ForeignKey) and field.related_model is Office


def scoped_choices(model, request):
    """The rows of `model` the user may pick in a form, or None if not scoped here."""
    user = request.user
    office_ids = tenancy.staff_office_ids(user)
    if model is Office:
        return Office.objects.filter(id__in=office_ids)
    if _model_has_office(model):
        return model._default_manager.filter(office_id__in=office_ids)
    if model is Resident:
        from registry.selectors import residents_for_staff

        return residents_for_staff(user=user)
    if model is get_user_model():
        if user.is_superuser:
            return model._default_manager.all()
        return model._default_manager.filter(memberships__office_id__in=office_ids).distinct()
    return None


class NotFoundNotRedirect:
    """An object outside the user's offices answers 404, as in the API, instead of
    Django's redirect to the index with a "perhaps it was deleted" message."""

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404


class OfficeScopedMixin:
    """Shared by model admins and inlines: scope foreign-key and many-to-many choices."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = scoped_choices(db_field.related_model, request)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        choices = scoped_choices(db_field.related_model, request)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class OfficeScopedAdmin(NotFoundNotRedirect, OfficeScopedMixin, admin.ModelAdmin):
    """Admin of a model with an `office` foreign key (or, for Office, itself)."""

    office_lookup = "office_id"
    # Django 6 assumes https for scheme-less URLs; say so now (and silence the warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(**{f"{self.office_lookup}__in": tenancy.staff_office_ids(
            request.user)})

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if len(tenancy.staff_office_ids(request.user)) > 1 and self.office_lookup != "id":
            filters.insert(0, ("office", admin.RelatedOnlyFieldListFilter))
        return filters

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if (len(tenancy.staff_office_ids(request.user)) > 1 and self.office_lookup != "id"
                and "office" not in display):
            display.append("office")
        return display

    def _perm(self, action):
        opts = self.opts
        return f"{opts.app_label}.{action}_{opts.model_name}"

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return super().has_view_permission(request)
        return request.user.has_perm(self._perm("view"), obj) or request.user.has_perm(
            self._perm("change"), obj)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return request.user.has_perm(self._perm("change"), obj)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request)
        return request.user.has_perm(self._perm("delete"), obj)

    def save_formset(self, request, form, formset, change):
        parent = form.instance
        office_id = parent.id if isinstance(parent, Office) else parent.office_id
        for child in formset.save(commit=False):
            if _model_has_office(type(child)):
                child.office_id = office_id
            child.save()
        for child in formset.deleted_objects:
            child.delete()
        formset.save_m2m()

    def save_model(self, request, obj, form, change):
        # The office field's choices are already scoped; this refuses a forged POST.
        office_id = obj.id if isinstance(obj, Office) else getattr(obj, "office_id", None)
        if office_id is not None and office_id not in tenancy.staff_office_ids(request.user):
            raise Http404
        super().save_model(request, obj, form, change)


class OfficeScopedInline(OfficeScopedMixin):
    """Mix into TabularInline/StackedInline for children of an office-owned parent.
    The child's office is the parent's; it is set on save, never chosen."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _model_has_office(self.model):
            queryset = queryset.filter(office_id__in=tenancy.staff_office_ids(request.user))
        return queryset

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if _model_has_office(self.model):
            exclude.append("office")
        return exclude


def report_domain_error(request, exc: DomainError | ValidationError) -> None:
    """Show a service's refusal as an admin message."""
    text = exc.message if isinstance(exc, DomainError) else "; ".join(exc.messages)
    messages.error(request, str(text))



class DomainErrorAsMessageMixin:
    """A service's refusal while saving the form (a DomainError) is shown as a message
    on the same page, with nothing saved, instead of an error page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            report_domain_error(request, exc)
            return redirect(request.get_full_path())


# --- What the admin may not do ---------------------------------------------------------
# Put before the admin class in the bases, so they win over its permission checks.


class NoAddMixin:
    """Rows made by services (a booking, a ticket, a sent message), never typed in."""

    def has_add_permission(self, request, obj=None):
        return False


class NoChangeMixin:
    """Rows changed only by services, if at all: the admin shows them."""

    def has_change_permission(self, request, obj=None):
        return False


class NoDeleteMixin:
    """Rows kept for the record: a case, a message, a hand-over."""

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyMixin(NoAddMixin, NoChangeMixin, NoDeleteMixin):
    """A record the admin only shows (a timeline entry, a disclosure, a stock movement)."""
