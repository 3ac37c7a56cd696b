"""Django admin for federation staff: organisations, persons, users, function types, functions.

All of it is scoped through clubadmin.access (see clubadmin/admin.py), and every write goes
through members.services, so the admin enforces the same rules as the web pages and the API.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from clubadmin import access
from clubadmin.admin import ScopedModelAdmin
from clubadmin.capabilities import Capability
from members import admin_duplicates, services
from members.models import (
    ORGANISATION_DATA_FIELDS,
    BankAccount,
    Competence,
    CompetenceType,
    ContactSet,
    Function,
    FunctionType,
    Licence,
    LicencePeriod,
    LicenceType,
    Organisation,
    Person,
    Transfer,
    User,
)

ORGANISATION_NOT_ALLOWED = _("You cannot manage this organisation.")


class OrganisationAddForm(forms.ModelForm):
    parent = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Parent"))

    class Meta:
        model = Organisation
        fields = ["parent", "organisation_type", *ORGANISATION_DATA_FIELDS]


@admin.register(Organisation)
class OrganisationAdmin(ScopedModelAdmin):
    view_capability = Capability.ADMIN_ACCESS
    change_capability = Capability.ORGANISATIONS_MANAGE
    owner_fields = ("organisation_type",)
    list_display = ("name", "organisation_type", "organisation_number", "city", "is_active")
    list_filter = ("organisation_type", "is_active")
    search_fields = ("name", "organisation_number", "city")
    ordering = ("path",)
    list_per_page = 50
    fields = ("organisation_type", *ORGANISATION_DATA_FIELDS)

    def get_form(self, request: HttpRequest, obj: Organisation | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        if obj is not None:
            return super().get_form(request, obj, **kwargs)
        kwargs["form"] = OrganisationAddForm
        kwargs["fields"] = OrganisationAddForm.Meta.fields
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["parent"].queryset = access.scope(
            request.user,
            Capability.ORGANISATIONS_MANAGE,
            Organisation.objects.order_by("path"),
        )
        return form

    def get_fields(self, request: HttpRequest, obj: Organisation | None = None):  # type: ignore[no-untyped-def]
        return self.fields if obj is not None else OrganisationAddForm.Meta.fields

    def save_model(self, request: HttpRequest, obj: Organisation, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            saved = services.organisation_update(actor=request.user, organisation=obj, **changed)
        else:
            data = dict(form.cleaned_data)
            saved = services.organisation_create(actor=request.user, **data)
        obj.pk, obj.path, obj.depth = saved.pk, saved.path, saved.depth


class FunctionInline(admin.TabularInline):
    model = Function
    fk_name = "person"
    fields = ("function_type", "organisation", "from_date", "to_date")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The rows are scoped below; Django's model permissions are not used here.
        return self.admin_site.has_permission(request)

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return access.scope(
            request.user, Capability.PERSONS_VIEW, super().get_queryset(request), include_own=False
        ).select_related("function_type", "organisation")


class ReadOnlyInline(admin.TabularInline):
    """Records of a person shown on the person's admin page; they are changed on the person
    card, whose services apply the rules (P-06, P-08, P-09)."""

    extra = 0
    can_delete = False
    view_capability = Capability.PERSONS_VIEW

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The rows are scoped below; Django's model permissions are not used here.
        return self.admin_site.has_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        return self.fields

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return access.scope(
            request.user, self.view_capability, super().get_queryset(request), include_own=False
        )


class ContactSetInline(ReadOnlyInline):
    model = ContactSet
    fields = ("label", "is_standard", "street", "postcode", "city", "country", "email", "mobile")


class BankAccountInline(ReadOnlyInline):
    model = BankAccount
    fields = ("account_type", "account_number", "iban", "owner_name", "is_default")
    # P-09: bank accounts are sensitive: only those who may edit the person see them.
    view_capability = Capability.PERSONS_EDIT


class PersonAdminForm(forms.ModelForm):
    confirm_identity_change = forms.BooleanField(
        label=_("Confirm the new sports id"),
        required=False,
        help_text=_("Changing name, gender or birth date issues a new sports id (P-05)."),
    )
    # Issue 4: adding a person who may already exist needs this (members.admin_duplicates).
    confirm_new_person = forms.BooleanField(
        label=_("Create a new person anyway"),
        required=False,
        help_text=_("Only when none of the existing persons shown is this person."),
    )

    class Meta:
        model = Person
        fields = ["first_name", "middle_name", "last_name", "gender", "birth_date"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        identity_changed = self.instance.pk and set(self.changed_data) & set(self.Meta.fields)
        if identity_changed and not data.get("confirm_identity_change"):
            self.add_error(
                "confirm_identity_change",
                _("Confirm that the person gets a new sports id (P-05)."),
            )
        if not self.instance.pk and not self.errors and not data.get("confirm_new_person"):
            possible_duplicate = admin_duplicates.new_person_error(data)
            if possible_duplicate is not None:
                self.add_error("confirm_new_person", possible_duplicate)
        return data


@admin.register(Person)
class PersonAdmin(ScopedModelAdmin):
    view_capability = Capability.PERSONS_VIEW
    change_capability = Capability.PERSONS_EDIT
    list_display = ("last_name", "first_name", "birth_date", "gender", "sports_id")
    list_filter = ("gender",)
    search_fields = ("last_name", "first_name", "national_person_id", "sports_id")
    form = PersonAdminForm
    # Deceased status and the data-wash reservation have rules and confirmations of their
    # own (P-06, P-07): they are changed on the person card.
    readonly_fields = (
        "national_person_id",
        "sports_id",
        "is_deceased",
        "date_of_death",
        "reserved_against_data_wash",
        "created_at",
        "updated_at",
    )
    fields = (
        "first_name",
        "middle_name",
        "last_name",
        "gender",
        "birth_date",
        "confirm_identity_change",
        "confirm_new_person",
        *readonly_fields,
    )
    inlines = [ContactSetInline, BankAccountInline, FunctionInline]
    list_per_page = 50
    show_full_result_count = False

    def get_fields(self, request: HttpRequest, obj: Person | None = None):  # type: ignore[no-untyped-def]
        fields = super().get_fields(request, obj)
        return [name for name in fields if name != "confirm_new_person"] if obj else fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A person belongs to an organisation through a function; the person register
        # (issue 3) adds persons together with their first function.
        return request.user.is_superuser

    def save_model(self, request: HttpRequest, obj: Person, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        if change:
            changed = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in services.PERSON_EDITABLE_FIELDS
            }
            services.person_update(
                actor=request.user,
                person=obj,
                confirm_identity_change=form.cleaned_data.get("confirm_identity_change", False),
                **changed,
            )
        else:
            data = {
                k: v for k, v in form.cleaned_data.items() if k in services.PERSON_EDITABLE_FIELDS
            }
            obj.pk = services.person_create(actor=request.user, **data).pk


@admin.register(User)
class UserAdmin(ScopedModelAdmin, DjangoUserAdmin):
    """Staff see the logins of persons in their scope; only superusers change logins (a staff
    member must not be able to grant themselves more)."""

    view_capability = Capability.PERSONS_VIEW
    change_capability = Capability.PERSONS_EDIT
    list_display = ("username", "email", "person", "is_staff", "is_active")
    list_select_related = ("person",)
    search_fields = ("username", "email", "person__last_name", "person__first_name")
    autocomplete_fields = ("person",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Person"), {"fields": ("person", "language")}),
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


@admin.register(FunctionType)
class FunctionTypeAdmin(admin.ModelAdmin):
    """The catalogue of function types is global: staff may read it, superusers change it."""

    list_display = ("number", "name", "code", "is_active")
    search_fields = ("name", "code")
    list_filter = ("is_active",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FunctionAdminForm(forms.ModelForm):
    class Meta:
        model = Function
        fields = ["person", "organisation", "function_type", "from_date", "to_date"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        organisation, function_type = data.get("organisation"), data.get("function_type")
        if self.instance.pk is None and organisation and function_type:
            if not access.has_capability(
                self.request.user, Capability.FUNCTIONS_MANAGE, organisation
            ):
                self.add_error("organisation", ORGANISATION_NOT_ALLOWED)
            else:
                try:
                    services.function_check_placement(
                        organisation=organisation, function_type=function_type
                    )
                except ValidationError as error:
                    self.add_error(None, error)
        return data


@admin.register(Function)
class FunctionAdmin(ScopedModelAdmin):
    view_capability = Capability.PERSONS_VIEW
    change_capability = Capability.FUNCTIONS_MANAGE
    owner_fields = ("person", "organisation", "function_type")
    form = FunctionAdminForm
    list_display = ("person", "function_type", "organisation", "from_date", "to_date")
    list_select_related = ("person", "function_type", "organisation")
    list_filter = ("function_type", "to_date")
    search_fields = ("person__last_name", "person__first_name", "organisation__name")
    autocomplete_fields = ("person", "organisation")
    date_hierarchy = "from_date"
    list_per_page = 50
    show_full_result_count = False

    def get_form(self, request: HttpRequest, obj: Function | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def save_model(self, request: HttpRequest, obj: Function, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        if change:
            changed = {
                n: form.cleaned_data[n] for n in form.changed_data if n in ("from_date", "to_date")
            }
            services.function_update(actor=request.user, function=obj, **changed)
        else:
            obj.pk = services.function_create(actor=request.user, **form.cleaned_data).pk


class PersonRecordAdmin(ScopedModelAdmin):
    """Read-only, scoped list of one kind of person record."""

    read_only = True
    list_per_page = 50
    show_full_result_count = False
    search_fields = ("person__last_name", "person__first_name", "person__sports_id")


@admin.register(Licence)
class LicenceAdmin(PersonRecordAdmin):
    list_display = ("person", "licence_type", "period", "organisation", "status", "amount_due")
    list_select_related = ("person", "licence_type", "period", "organisation")
    list_filter = ("status", "period")


@admin.register(Competence)
class CompetenceAdmin(PersonRecordAdmin):
    list_display = (
        "person",
        "competence_type",
        "valid_from",
        "valid_to",
        "is_temporarily_inactive",
    )
    list_select_related = ("person", "competence_type")
    list_filter = ("competence_type", "is_temporarily_inactive")


@admin.register(Transfer)
class TransferAdmin(PersonRecordAdmin):
    view_capability = Capability.TRANSFERS_ADMIN
    list_display = (
        "person",
        "transfer_type",
        "from_organisation",
        "to_organisation",
        "transfer_date",
        "status",
    )
    list_select_related = ("person", "from_organisation", "to_organisation")
    list_filter = ("status", "transfer_type")


@admin.register(LicencePeriod)
class LicencePeriodAdmin(ScopedModelAdmin):
    view_capability = Capability.ADMIN_ACCESS
    change_capability = Capability.ORGANISATIONS_MANAGE
    owner_fields = ("organisation",)
    list_display = ("name", "sport", "organisation", "valid_from", "valid_to", "is_active")
    list_select_related = ("organisation",)
    list_filter = ("sport", "is_active")
    search_fields = ("name", "sport")
    autocomplete_fields = ("organisation",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "organisation":
            kwargs["queryset"] = access.scope(
                request.user, Capability.ORGANISATIONS_MANAGE, Organisation.objects.all()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(LicenceType)
class LicenceTypeAdmin(ScopedModelAdmin):
    view_capability = Capability.ADMIN_ACCESS
    change_capability = Capability.ORGANISATIONS_MANAGE
    owner_fields = ("period",)
    list_display = ("name", "period", "function_type", "price", "is_active")
    list_select_related = ("period", "function_type")
    list_filter = ("period", "is_active")
    search_fields = ("name", "code")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "period":
            kwargs["queryset"] = access.scope(
                request.user, Capability.ORGANISATIONS_MANAGE, LicencePeriod.objects.all()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(CompetenceType)
class CompetenceTypeAdmin(FunctionTypeAdmin):
    """A global catalogue, like function types."""

    list_display = ("name", "code", "sport", "is_active")
    list_filter = ("is_active", "sport")
