"""Forms of the staff pages and admin of appointments. They parse; the rules are in
services (a form never decides whether a booking may be made)."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from registry.errors import DomainError
from registry.models import Requirement, Service, Sex


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class FindResidentForm(forms.Form):
    nik = forms.CharField(label=_("NIK (16 digits, from the KTP-el or the KK)"), max_length=32,
                          widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                        "autocomplete": "off"}))


class RegisterResidentForm(forms.Form):
    """A resident registered on the spot from their KTP-el or KK; no phone needed."""

    nik = forms.CharField(label=_("NIK"), max_length=32,
                          widget=forms.TextInput(attrs={"readonly": True}))
    name = forms.CharField(label=_("Full name (as on the KK)"), max_length=120)
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput())
    sex = forms.ChoiceField(label=_("Sex"), required=False,
                            choices=[("", _("From the NIK")), *Sex.choices])
    phone = forms.CharField(label=_("Phone (if any)"), max_length=20, required=False)
    address = forms.CharField(label=_("Domicile address"), max_length=255, required=False)
    kecamatan = forms.CharField(label=_("Kecamatan"), max_length=80, required=False)
    kelurahan = forms.CharField(label=_("Kelurahan/desa"), max_length=80, required=False)


def requirement_field_names(requirement: Requirement) -> tuple[str, str]:
    return f"has_{requirement.code}", f"issued_{requirement.code}"


class AssistedBookingForm(forms.Form):
    """The chosen slot and, per requirement of the service, whether the resident has the
    document and, for documents with a validity period, its date of issue."""

    slot = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, service: Service, **kwargs):
        super().__init__(*args, **kwargs)
        self.requirements = list(service.requirements.all())
        for requirement in self.requirements:
            has, issued = requirement_field_names(requirement)
            self.fields[has] = forms.BooleanField(label=requirement.name, required=False)
            if requirement.valid_days:
                self.fields[issued] = forms.DateField(label=_("Date of issue"), required=False,
                                                      widget=DateInput())

    def documents(self) -> list[dict]:
        """The declared documents as services.documents_declare takes them."""
        declared = []
        for requirement in self.requirements:
            has, issued = requirement_field_names(requirement)
            if not self.cleaned_data.get(has):
                continue
            row = {"requirement": requirement.code}
            if requirement.valid_days:
                row["issued_on"] = self.cleaned_data.get(issued)
            declared.append(row)
        return declared

    def rows(self):
        """(requirement, has field, issued field or None) for the template."""
        for requirement in self.requirements:
            has, issued = requirement_field_names(requirement)
            yield requirement, self[has], self[issued] if issued in self.fields else None


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling (the resident is told)"), max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}))


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it rejected, and what should the resident bring instead?"),
        max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")])
    reason = forms.CharField(max_length=300, required=False)


def documents_from_post(data, service_set, *, prefix: str = "") -> list[dict]:
    """The documents of a visit as a staff page posts them, per requirement code:
    `<prefix>doc_<CODE>` = "has" or "lost" (absent: not brought) and
    `<prefix>issued_<CODE>` = its date of issue (YYYY-MM-DD). Only the requirements of
    `service_set` (and those it replaces, which may be declared lost) are read; a bad
    date is a DomainError. The rules stay in services.documents_declare."""
    wanted = [r.code for r in service_set.requirements()] + sorted(service_set.replaced_codes())
    documents = []
    for code in wanted:
        state = str(data.get(f"{prefix}doc_{code}", "") or "")
        if state == "lost":
            documents.append({"requirement": code, "lost": True})
        elif state == "has":
            row = {"requirement": code}
            issued = str(data.get(f"{prefix}issued_{code}", "") or "").strip()
            if issued:
                try:
                    row["issued_on"] = date.fromisoformat(issued[:10])
                except ValueError:
                    raise DomainError(_("Enter the date of issue as YYYY-MM-DD."),
                                      "issued_on_invalid") from None
            documents.append(row)
    return documents

