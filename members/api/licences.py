"""API for licences (P-12), competences (P-13) and transfers (P-15), with the licence periods
and types and the competence types as read-only catalogues.

Input and output serializers are kept apart; querysets come from clubadmin.access (through
members.selectors_functions); every write goes through a service, which checks the capability
and the rules. The person, organisation, period and function type of an existing record
never change through an update: such fields are rejected with a clear message.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from clubadmin import access
from clubadmin.capabilities import Capability
from members import licence_rules
from members import selectors_functions as selectors
from members.api.common import RejectImmutableFieldsMixin
from members.api.functions import PersonSummaryOutput
from members.models import (
    Competence,
    CompetenceType,
    ContactSet,
    Function,
    Licence,
    LicencePeriod,
    LicenceType,
    Organisation,
    Person,
    SendingMethod,
    Transfer,
    TransferEvent,
    TransferStatus,
    TransferType,
)
from members.services import competences as competence_services
from members.services import licences as licence_services
from members.services import transfers as transfer_services

STATUS_THROUGH_ACTION = _("Change the status through the status or approve action (P-15).")


def register(router: DefaultRouter) -> None:
    router.register("licences", LicenceViewSet, basename="licence")
    router.register("licence-periods", LicencePeriodViewSet, basename="licence-period")
    router.register("licence-types", LicenceTypeViewSet, basename="licence-type")
    router.register("competences", CompetenceViewSet, basename="competence")
    router.register("competence-types", CompetenceTypeViewSet, basename="competence-type")
    router.register("transfers", TransferViewSet, basename="transfer")


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() else None


def _scoped_persons(request: Request | None, capability: str = Capability.PERSONS_VIEW):  # type: ignore[no-untyped-def]
    if request is None:  # drf-spectacular builds the schema without a request
        return Person.objects.none()
    return access.scope(request.user, capability, Person.objects.all())


class _RequestScopedInput(serializers.Serializer):
    """Input whose related-object fields are narrowed to what the requesting user may see."""

    def scope_fields(self, request: Request) -> None:
        raise NotImplementedError

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.scope_fields(request)


class RejectLockedFieldsMixin:
    """Like RejectImmutableFieldsMixin, with the message of the rule that locks the fields."""

    locked_fields: tuple[str, ...] = ()
    locked_message: object = ""

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        errors = {name: [self.locked_message] for name in self.locked_fields if name in data}
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


# ------------------------------------------------------------------ catalogues (read-only)


class LicencePeriodOutput(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name")

    class Meta:
        model = LicencePeriod
        fields = [
            "id",
            "name",
            "sport",
            "organisation",
            "organisation_name",
            "valid_from",
            "valid_to",
            "is_active",
        ]


class LicenceTypeOutput(serializers.ModelSerializer):
    period_name = serializers.CharField(source="period.name")
    function_type_name = serializers.CharField(source="function_type.name")
    price = serializers.DecimalField(source="price.amount", max_digits=10, decimal_places=2)
    currency = serializers.CharField(source="price.currency.code")

    class Meta:
        model = LicenceType
        fields = [
            "id",
            "code",
            "name",
            "period",
            "period_name",
            "function_type",
            "function_type_name",
            "price",
            "currency",
            "is_active",
        ]


class LicencePeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """P-12: licence periods issued by an organisation above, at or below the user's."""

    serializer_class = LicencePeriodOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.licence_periods_visible(user=self.request.user)


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("period", int)]))
class LicenceTypeViewSet(viewsets.ReadOnlyModelViewSet):
    """P-12: the licence types of those periods, each with its matching function type."""

    serializer_class = LicenceTypeOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        queryset = selectors.licence_types_visible(user=self.request.user)
        period = _int_param(self.request, "period")
        return queryset.filter(period_id=period) if period is not None else queryset


class CompetenceTypeOutput(serializers.ModelSerializer):
    class Meta:
        model = CompetenceType
        fields = ["id", "code", "name", "sport", "description", "is_active"]


class CompetenceTypeViewSet(viewsets.ReadOnlyModelViewSet):
    """P-13: the competence types (a global catalogue, like function types)."""

    serializer_class = CompetenceTypeOutput
    queryset = CompetenceType.objects.order_by("name")


# ------------------------------------------------------------------ licences (P-12)


class LicenceOutput(serializers.ModelSerializer):
    person = PersonSummaryOutput()
    period_name = serializers.CharField(source="period.name")
    licence_type_name = serializers.CharField(source="licence_type.name")
    organisation_name = serializers.CharField(source="organisation.name")
    amount_due = serializers.DecimalField(
        source="amount_due.amount", max_digits=10, decimal_places=2
    )
    amount_paid = serializers.DecimalField(
        source="amount_paid.amount", max_digits=10, decimal_places=2
    )
    currency = serializers.CharField(source="amount_due.currency.code")
    function_is_passive = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Licence
        fields = [
            "id",
            "person",
            "period",
            "period_name",
            "licence_type",
            "licence_type_name",
            "organisation",
            "organisation_name",
            "function",
            "function_is_passive",
            "status",
            "sending_method",
            "delivery_contact_set",
            "amount_due",
            "amount_paid",
            "currency",
            "issued_at",
            "paid_at",
            "allowed_actions",
        ]

    def get_function_is_passive(self, licence: Licence) -> bool:
        return licence_rules.function_is_passive(licence.function.to_date, timezone.localdate())

    def get_allowed_actions(self, licence: Licence) -> list[str]:
        actions = licence_rules.allowed_actions(
            licence.status, function_is_active=not self.get_function_is_passive(licence)
        )
        return sorted(str(each) for each in actions)


class LicenceRegisterInput(_RequestScopedInput):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none())
    licence_type = serializers.PrimaryKeyRelatedField(queryset=LicenceType.objects.all())
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())
    sending_method = serializers.ChoiceField(
        choices=SendingMethod.choices, default=SendingMethod.POST
    )
    delivery_contact_set = serializers.PrimaryKeyRelatedField(
        queryset=ContactSet.objects.none(), required=False, allow_null=True, default=None
    )
    activate_function = serializers.BooleanField(
        default=False,
        help_text="Activate the person's ended matching function (P-12).",
    )

    def scope_fields(self, request: Request) -> None:
        self.fields["person"].queryset = _scoped_persons(request)
        self.fields["organisation"].queryset = access.visible_organisations(request.user)
        self.fields["delivery_contact_set"].queryset = access.scope(
            request.user, Capability.PERSONS_VIEW, ContactSet.objects.all()
        )


class LicenceActionInput(RejectImmutableFieldsMixin, serializers.Serializer):
    immutable_fields = ("person", "organisation", "period", "function", "status")


class LicenceSendInput(LicenceActionInput):
    sending_method = serializers.ChoiceField(choices=SendingMethod.choices, required=False)


class LicenceChangeTypeInput(LicenceActionInput):
    licence_type = serializers.PrimaryKeyRelatedField(queryset=LicenceType.objects.all())
    activate_function = serializers.BooleanField(default=False)


class LicencePaymentInput(LicenceActionInput):
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0.01"), help_text="NOK"
    )


class LicenceDeliveryInput(LicenceActionInput, _RequestScopedInput):
    delivery_contact_set = serializers.PrimaryKeyRelatedField(
        queryset=ContactSet.objects.none(), allow_null=True
    )
    sending_method = serializers.ChoiceField(choices=SendingMethod.choices, required=False)

    def scope_fields(self, request: Request) -> None:
        self.fields["delivery_contact_set"].queryset = access.scope(
            request.user, Capability.PERSONS_VIEW, ContactSet.objects.all()
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("person", int),
            OpenApiParameter("period", int),
            OpenApiParameter("status", str, enum=["registered", "issued", "paid", "cancelled"]),
        ]
    )
)
class LicenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """P-12: licences the user may see (persons.view on the person). Actions need
    persons.edit in the organisation the licence is registered through."""

    serializer_class = LicenceOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        queryset = selectors.person_licence_list(user=self.request.user)
        for name in ("person", "period"):
            value = _int_param(self.request, name)
            if value is not None:
                queryset = queryset.filter(**{f"{name}_id": value})
        if self.request.query_params.get("status"):
            queryset = queryset.filter(status=self.request.query_params["status"])
        return queryset.order_by("-period__valid_from", "person__last_name", "pk")

    def _respond(self, licence: Licence, code: int = status.HTTP_200_OK) -> Response:
        licence = self.get_queryset().get(pk=licence.pk)
        return Response(LicenceOutput(licence).data, status=code)

    @extend_schema(request=LicenceRegisterInput, responses={201: LicenceOutput})
    def create(self, request: Request) -> Response:
        """Register a licence. With the matching function ended the answer is 400 naming
        `organisation` (code function_inactive) unless `activate_function` is true."""
        serializer = LicenceRegisterInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        licence = licence_services.licence_register(actor=request.user, **serializer.validated_data)
        return self._respond(licence, status.HTTP_201_CREATED)

    def _act(self, request: Request, input_class, service, **extra) -> Response:  # type: ignore[no-untyped-def]
        licence = self.get_object()
        serializer = input_class(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = {**serializer.validated_data, **extra}
        if "amount" in data:
            data["amount"] = Money(data["amount"], licence_services.CURRENCY)
        return self._respond(service(actor=request.user, licence=licence, **data))

    @extend_schema(request=LicenceSendInput, responses={200: LicenceOutput})
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk: str | None = None) -> Response:
        """registered -> issued (invoiced/sent); e-mail only with an e-mail address."""
        return self._act(request, LicenceSendInput, licence_services.licence_issue)

    @extend_schema(request=LicenceSendInput, responses={200: LicenceOutput})
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, LicenceSendInput, licence_services.licence_resend)

    @extend_schema(request=LicenceChangeTypeInput, responses={200: LicenceOutput})
    @action(detail=True, methods=["post"], url_path="change-type")
    def change_type(self, request: Request, pk: str | None = None) -> Response:
        """An issued licence changes type until paid: re-issued with a new invoice."""
        return self._act(request, LicenceChangeTypeInput, licence_services.licence_change_type)

    @extend_schema(request=LicencePaymentInput, responses={200: LicenceOutput})
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, LicencePaymentInput, licence_services.licence_add_payment)

    @extend_schema(request=LicencePaymentInput, responses={200: LicenceOutput})
    @action(detail=True, methods=["post"], url_path="return-payment")
    def return_payment(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, LicencePaymentInput, licence_services.licence_return_payment)

    @extend_schema(request=LicenceDeliveryInput, responses={200: LicenceOutput})
    @action(detail=True, methods=["post"])
    def delivery(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, LicenceDeliveryInput, licence_services.licence_change_delivery)

    @extend_schema(request=None, responses={200: LicenceOutput})
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str | None = None) -> Response:
        """A licence whose function is passive: reactivate it (and its function)."""
        return self._act(request, LicenceActionInput, licence_services.licence_reactivate)


# ------------------------------------------------------------------ competences (P-13)


class CompetenceOutput(serializers.ModelSerializer):
    competence_type_name = serializers.CharField(source="competence_type.name")

    class Meta:
        model = Competence
        fields = [
            "id",
            "person",
            "competence_type",
            "competence_type_name",
            "comment",
            "valid_from",
            "valid_to",
            "is_temporarily_inactive",
        ]


class CompetenceCreateInput(_RequestScopedInput):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none())
    competence_type = serializers.PrimaryKeyRelatedField(queryset=CompetenceType.objects.all())
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True)

    def scope_fields(self, request: Request) -> None:
        self.fields["person"].queryset = _scoped_persons(request)


class CompetenceUpdateInput(RejectImmutableFieldsMixin, serializers.Serializer):
    immutable_fields = ("id", "person", "competence_type", "valid_from")
    comment = serializers.CharField(required=False, allow_blank=True)
    valid_to = serializers.DateField(required=False, allow_null=True)
    is_temporarily_inactive = serializers.BooleanField(required=False)


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("person", int)]))
class CompetenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """P-13: competences of the persons the user may see; persons.edit changes them; a
    deceased person's competences are locked (P-06)."""

    serializer_class = CompetenceOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        queryset = access.scope(
            self.request.user, Capability.PERSONS_VIEW, Competence.objects.all()
        ).select_related("competence_type")
        person = _int_param(self.request, "person")
        if person is not None:
            queryset = queryset.filter(person_id=person)
        return queryset.order_by("person_id", "-valid_from", "pk")

    @extend_schema(request=CompetenceCreateInput, responses={201: CompetenceOutput})
    def create(self, request: Request) -> Response:
        serializer = CompetenceCreateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        competence = competence_services.competence_create(
            actor=request.user, **serializer.validated_data
        )
        return Response(CompetenceOutput(competence).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CompetenceUpdateInput, responses={200: CompetenceOutput})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        competence = self.get_object()
        serializer = CompetenceUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        competence = competence_services.competence_update(
            actor=request.user, competence=competence, **serializer.validated_data
        )
        return Response(CompetenceOutput(competence).data)


# ------------------------------------------------------------------ transfers (P-15)


class TransferEventOutput(serializers.ModelSerializer):
    class Meta:
        model = TransferEvent
        fields = ["from_status", "to_status", "actor", "comment", "created_at"]


class TransferOutput(serializers.ModelSerializer):
    person = PersonSummaryOutput()
    function_type_name = serializers.CharField(source="function_type.name")
    from_organisation_name = serializers.CharField(source="from_organisation.name")
    to_organisation_name = serializers.CharField(source="to_organisation.name")
    events = TransferEventOutput(many=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "person",
            "function",
            "function_type",
            "function_type_name",
            "from_organisation",
            "from_organisation_name",
            "to_organisation",
            "to_organisation_name",
            "transfer_type",
            "status",
            "transfer_date",
            "loan_until",
            "comment",
            "new_function",
            "events",
        ]


class TransferCreateInput(_RequestScopedInput):
    function = serializers.PrimaryKeyRelatedField(queryset=Function.objects.none())
    to_organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    transfer_type = serializers.ChoiceField(choices=TransferType.choices)
    transfer_date = serializers.DateField()
    loan_until = serializers.DateField(required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True)

    def scope_fields(self, request: Request) -> None:
        self.fields["function"].queryset = access.scope(
            request.user, Capability.PERSONS_VIEW, Function.objects.all(), include_own=False
        )


class TransferUpdateInput(RejectLockedFieldsMixin, serializers.Serializer):
    locked_fields = ("id", "person", "function", "function_type", "from_organisation")
    locked_message = transfer_services.TRANSFER_FIELD_LOCKED
    to_organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(), required=False
    )
    transfer_type = serializers.ChoiceField(choices=TransferType.choices, required=False)
    transfer_date = serializers.DateField(required=False)
    loan_until = serializers.DateField(required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True)

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        if "status" in data:
            raise serializers.ValidationError({"status": [STATUS_THROUGH_ACTION]})
        return super().to_internal_value(data)


class TransferStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=TransferStatus.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class TransferApproveInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("person", int),
            OpenApiParameter("status", str, enum=list(TransferStatus.values)),
        ]
    )
)
class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """P-15: transfers for transfer administrators of the from- or to-organisation."""

    serializer_class = TransferOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        events = TransferEvent.objects.order_by("created_at", "pk")
        queryset = selectors.transfer_list(user=self.request.user).prefetch_related(
            Prefetch("events", queryset=events)
        )
        person = _int_param(self.request, "person")
        if person is not None:
            queryset = queryset.filter(person_id=person)
        if self.request.query_params.get("status"):
            queryset = queryset.filter(status=self.request.query_params["status"])
        return queryset

    def _respond(self, transfer: Transfer, code: int = status.HTTP_200_OK) -> Response:
        return Response(TransferOutput(self.get_queryset().get(pk=transfer.pk)).data, status=code)

    @extend_schema(request=TransferCreateInput, responses={201: TransferOutput})
    def create(self, request: Request) -> Response:
        serializer = TransferCreateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        transfer = transfer_services.transfer_create(
            actor=request.user, **serializer.validated_data
        )
        return self._respond(transfer, status.HTTP_201_CREATED)

    @extend_schema(request=TransferUpdateInput, responses={200: TransferOutput})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change an open transfer; person, function, function type and from-organisation are
        locked (P-15)."""
        transfer = self.get_object()
        serializer = TransferUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = transfer_services.transfer_update(
            actor=request.user, transfer=transfer, **serializer.validated_data
        )
        return self._respond(transfer)

    @extend_schema(request=TransferStatusInput, responses={200: TransferOutput})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        transfer = self.get_object()
        serializer = TransferStatusInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = transfer_services.transfer_set_status(
            actor=request.user, transfer=transfer, **serializer.validated_data
        )
        return self._respond(transfer)

    @extend_schema(request=TransferApproveInput, responses={200: TransferOutput})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve: the function moves (idempotent: a second call changes nothing)."""
        transfer = self.get_object()
        serializer = TransferApproveInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = transfer_services.transfer_approve(
            actor=request.user, transfer=transfer, **serializer.validated_data
        )
        return self._respond(transfer)
