"""API of the person card (/api/v1/persons/{id}/, P-05..P-09).

- `persons/{id}/`: retrieve (persons.view, or one's own person), PATCH (persons.edit; a change
  of name, gender or birth date needs `"confirm_identity_change": true`, P-05), actions
  `deceased` (P-06) and `reservation` (P-07). The list of persons (search) is another viewset
  on the same prefix (members.api.search).
- `persons/{person_id}/contact-sets/`: the person's contact sets (P-08), with `set-standard`.
- `persons/{person_id}/bank-accounts/`: bank accounts (P-09), with `set-default`. Sensitive:
  only persons.edit on the person, or the person themself, sees them; other users get 404.

Input and output serializers are kept apart; writes go through the services, whose
ValidationErrors the project's exception handler turns into 400 responses naming the field.
The person always comes from the URL: a `person` in the body is rejected, so a record never
moves to another person.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import BankAccount, BankAccountType, ContactSet, Gender, Person
from members.services import accounts as account_services
from members.services import contacts as contact_services
from members.services import persons as person_services

FIELD_SET_ELSEWHERE = _("This field cannot be set here: %(where)s.")
PERSON_FROM_URL = _("the person is given by the URL")
STANDARD_THROUGH_ACTION = _("use the set-standard action")
DEFAULT_THROUGH_ACTION = _("use the set-default action")
DECEASED_THROUGH_ACTION = _("use the deceased action")
RESERVATION_THROUGH_ACTION = _("use the reservation action")
NEVER_CHANGES = _("it never changes through the API")


class RejectFieldsMixin:
    """Reject (never silently ignore) fields a client may not set in this request, saying
    where they are set instead."""

    rejected_fields: dict[str, object] = {}

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        errors = {
            name: [FIELD_SET_ELSEWHERE % {"where": where}]
            for name, where in self.rejected_fields.items()
            if name in data
        }
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


# ------------------------------------------------------------------------------- persons


class ContactSetOutput(serializers.ModelSerializer):
    class Meta:
        model = ContactSet
        fields = [
            "id",
            "label",
            "is_standard",
            "street",
            "postcode",
            "city",
            "country",
            "email",
            "mobile",
            "phone",
            "fax",
            "hide_address",
            "hide_email",
            "hide_phone",
            "hide_fax",
        ]


class PersonOutput(serializers.ModelSerializer):
    full_name = serializers.CharField()
    previous_sports_ids = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="sports_id"
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "first_name",
            "middle_name",
            "last_name",
            "full_name",
            "gender",
            "birth_date",
            "sports_id",
            "previous_sports_ids",
            "is_deceased",
            "date_of_death",
            "reserved_against_data_wash",
        ]


class PersonUpdateInput(RejectFieldsMixin, serializers.Serializer):
    rejected_fields = {
        "id": NEVER_CHANGES,
        "sports_id": NEVER_CHANGES,
        "national_person_id": NEVER_CHANGES,
        "is_deceased": DECEASED_THROUGH_ACTION,
        "date_of_death": DECEASED_THROUGH_ACTION,
        "reserved_against_data_wash": RESERVATION_THROUGH_ACTION,
    }
    first_name = serializers.CharField(max_length=100, required=False)
    middle_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    birth_date = serializers.DateField(required=False, allow_null=True)
    confirm_identity_change = serializers.BooleanField(
        required=False,
        default=False,
        help_text="P-05: must be true when name, gender or birth date change (new sports id).",
    )


class DeceasedInput(serializers.Serializer):
    is_deceased = serializers.BooleanField(
        default=True, help_text="false clears a deceased registration made by mistake."
    )
    date_of_death = serializers.DateField(required=False, allow_null=True)
    confirm = serializers.BooleanField(
        default=False, help_text="P-06: a change of deceased status must be confirmed."
    )


class ReservationInput(serializers.Serializer):
    reserved = serializers.BooleanField(help_text="P-07: reserved against the data wash.")


class PersonViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The person card: persons the user may view (persons.view in one of the person's
    organisations, or their own person). No list here: search is members.api.search."""

    serializer_class = PersonOutput

    def get_queryset(self) -> QuerySet[Person]:
        return access.scope(
            self.request.user,
            Capability.PERSONS_VIEW,
            Person.objects.prefetch_related("previous_sports_ids"),
        )

    def _output(self, person: Person) -> Response:
        return Response(PersonOutput(self.get_queryset().get(pk=person.pk)).data)

    @extend_schema(request=PersonUpdateInput, responses={200: PersonOutput})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """P-05: change name, gender or birth date (persons.edit); with
        `confirm_identity_change: true` a new sports id is issued."""
        person = self.get_object()
        serializer = PersonUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = person_services.person_update(
            actor=request.user, person=person, **serializer.validated_data
        )
        return self._output(person)

    @extend_schema(
        methods=["POST"],
        request=DeceasedInput,
        responses={200: PersonOutput},
        description="P-06: mark deceased (date_of_death, confirm) or, with "
        "is_deceased=false, clear a registration made by mistake.",
    )
    @extend_schema(
        methods=["DELETE"],
        request=None,
        parameters=[OpenApiParameter("confirm", OpenApiTypes.BOOL)],
        responses={200: PersonOutput},
        description="P-06: clear a deceased registration made by mistake (?confirm=true).",
    )
    @action(detail=True, methods=["post", "delete"])
    def deceased(self, request: Request, pk: str | None = None) -> Response:
        person = self.get_object()
        if request.method == "DELETE":
            confirm = str(request.query_params.get("confirm", "")).lower() in {"true", "1"}
            confirm = confirm or request.data.get("confirm") is True
            person = person_services.person_clear_deceased(
                actor=request.user, person=person, confirm=confirm
            )
            return self._output(person)
        serializer = DeceasedInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["is_deceased"]:
            person = person_services.person_set_deceased(
                actor=request.user,
                person=person,
                date_of_death=data.get("date_of_death"),
                confirm=data["confirm"],
            )
        else:
            person = person_services.person_clear_deceased(
                actor=request.user, person=person, confirm=data["confirm"]
            )
        return self._output(person)

    @extend_schema(request=ReservationInput, responses={200: PersonOutput})
    @action(detail=True, methods=["post"])
    def reservation(self, request: Request, pk: str | None = None) -> Response:
        """P-07: reserve against (or allow) the data wash."""
        serializer = ReservationInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = person_services.person_set_reservation(
            actor=request.user, person=self.get_object(), **serializer.validated_data
        )
        return self._output(person)


# ------------------------------------------------------------------- nested: contact sets

PERSON_PATH_PARAMETER = OpenApiParameter("person_pk", int, OpenApiParameter.PATH)


class PersonNestedViewSet(viewsets.GenericViewSet):
    """Rows of one person, the person taken from the URL and checked with clubadmin.access."""

    @cached_property
    def person(self) -> Person:
        person = access.get_object_or_404(
            self.request.user,
            Capability.PERSONS_VIEW,
            Person.objects.all(),
            pk=self.kwargs["person_pk"],
        )
        if not self.may_see_rows_of(person):
            raise Http404
        return person

    def may_see_rows_of(self, person: Person) -> bool:
        return True


class ContactSetInput(RejectFieldsMixin, serializers.Serializer):
    rejected_fields = {
        "person": PERSON_FROM_URL,
        "id": NEVER_CHANGES,
        "is_standard": STANDARD_THROUGH_ACTION,
    }
    label = serializers.CharField(max_length=60, required=False)
    street = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    mobile = serializers.CharField(max_length=30, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    fax = serializers.CharField(max_length=30, required=False, allow_blank=True)
    hide_address = serializers.BooleanField(required=False)
    hide_email = serializers.BooleanField(required=False)
    hide_phone = serializers.BooleanField(required=False)
    hide_fax = serializers.BooleanField(required=False)
    confirm_email = serializers.BooleanField(
        required=False,
        default=False,
        help_text="M-03: true accepts an e-mail address that looks like a typo.",
    )


@extend_schema(parameters=[PERSON_PATH_PARAMETER])
class ContactSetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PersonNestedViewSet):
    """P-08: a person's contact sets; exactly one is the standard set."""

    serializer_class = ContactSetOutput

    def get_queryset(self) -> QuerySet[ContactSet]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return ContactSet.objects.none()
        return ContactSet.objects.filter(person=self.person).order_by("-is_standard", "pk")

    @extend_schema(request=ContactSetInput, responses={201: ContactSetOutput})
    def create(self, request: Request, person_pk: str | None = None) -> Response:
        serializer = ContactSetInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact_set = contact_services.contact_set_create(
            actor=request.user, person=self.person, **serializer.validated_data
        )
        return Response(ContactSetOutput(contact_set).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ContactSetInput, responses={200: ContactSetOutput})
    def partial_update(
        self, request: Request, person_pk: str | None = None, pk: str | None = None
    ) -> Response:
        serializer = ContactSetInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact_set = contact_services.contact_set_update(
            actor=request.user, contact_set=self.get_object(), **serializer.validated_data
        )
        return Response(ContactSetOutput(contact_set).data)

    def destroy(
        self, request: Request, person_pk: str | None = None, pk: str | None = None
    ) -> Response:
        """P-08: not the standard set, nor a set a function uses."""
        contact_services.contact_set_delete(actor=request.user, contact_set=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: ContactSetOutput})
    @action(detail=True, methods=["post"], url_path="set-standard")
    def set_standard(
        self, request: Request, person_pk: str | None = None, pk: str | None = None
    ) -> Response:
        contact_set = contact_services.contact_set_set_standard(
            actor=request.user, contact_set=self.get_object()
        )
        return Response(ContactSetOutput(contact_set).data)


# ------------------------------------------------------------------ nested: bank accounts


class BankAccountOutput(serializers.ModelSerializer):
    class Meta:
        model = BankAccount
        fields = [
            "id",
            "account_type",
            "account_number",
            "iban",
            "bic",
            "owner_name",
            "is_default",
        ]


class BankAccountInput(RejectFieldsMixin, serializers.Serializer):
    rejected_fields = {
        "person": PERSON_FROM_URL,
        "id": NEVER_CHANGES,
        "is_default": DEFAULT_THROUGH_ACTION,
    }
    account_type = serializers.ChoiceField(choices=BankAccountType.choices, required=False)
    account_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    iban = serializers.CharField(max_length=42, required=False, allow_blank=True)
    bic = serializers.CharField(max_length=14, required=False, allow_blank=True)
    owner_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


@extend_schema(parameters=[PERSON_PATH_PARAMETER])
class BankAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PersonNestedViewSet):
    """P-09: a person's bank accounts. Sensitive: persons.edit on the person, or the person
    themself; anyone else gets 404."""

    serializer_class = BankAccountOutput

    def may_see_rows_of(self, person: Person) -> bool:
        return account_services.may_view_bank_accounts(self.request.user, person)

    def get_queryset(self) -> QuerySet[BankAccount]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return BankAccount.objects.none()
        return account_services.bank_account_list(person=self.person)

    @extend_schema(request=BankAccountInput, responses={201: BankAccountOutput})
    def create(self, request: Request, person_pk: str | None = None) -> Response:
        serializer = BankAccountInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = account_services.account_create(
            actor=request.user, person=self.person, **serializer.validated_data
        )
        return Response(BankAccountOutput(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BankAccountInput, responses={200: BankAccountOutput})
    def partial_update(
        self, request: Request, person_pk: str | None = None, pk: str | None = None
    ) -> Response:
        serializer = BankAccountInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = account_services.account_update(
            actor=request.user, account=self.get_object(), **serializer.validated_data
        )
        return Response(BankAccountOutput(account).data)

    def destroy(
        self, request: Request, person_pk: str | None = None, pk: str | None = None
    ) -> Response:
        account_services.account_delete(actor=request.user, account=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: BankAccountOutput})
    @action(detail=True, methods=["post"], url_path="set-default")
    def set_default(
        self, request: Request, person_pk: str | None = None, pk: str | None = None
    ) -> Response:
        account = account_services.account_set_default(
            actor=request.user, account=self.get_object()
        )
        return Response(BankAccountOutput(account).data)


def register(router: DefaultRouter) -> None:
    router.register("persons", PersonViewSet, basename="person")
    router.register(
        r"persons/(?P<person_pk>[^/.]+)/contact-sets",
        ContactSetViewSet,
        basename="person-contact-set",
    )
    router.register(
        r"persons/(?P<person_pk>[^/.]+)/bank-accounts",
        BankAccountViewSet,
        basename="person-bank-account",
    )
