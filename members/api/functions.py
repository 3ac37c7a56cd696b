"""API for functions (/api/v1/functions/, P-10, P-11, P-15).

Input and output serializers are kept apart; querysets come from clubadmin.access or a selector
built on it; writes go through members.services. Person, organisation and function type of a
function never change through an update.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clubadmin import access
from clubadmin.capabilities import Capability
from members import selectors, services
from members.api.common import RejectImmutableFieldsMixin
from members.models import (
    ContactSet,
    Function,
    FunctionContact,
    FunctionType,
    Organisation,
    Person,
)


class PersonSummaryOutput(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ["id", "first_name", "middle_name", "last_name"]


class FunctionOutput(serializers.ModelSerializer):
    person = PersonSummaryOutput()
    organisation_name = serializers.CharField(source="organisation.name")
    function_type_name = serializers.CharField(source="function_type.name")
    is_active = serializers.BooleanField()

    class Meta:
        model = Function
        fields = [
            "id",
            "person",
            "organisation",
            "organisation_name",
            "function_type",
            "function_type_name",
            "from_date",
            "to_date",
            "is_active",
            "is_licensed",
            "contact",
            "contact_set",
        ]


class FunctionCreateInput(serializers.Serializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none())
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())
    function_type = serializers.PrimaryKeyRelatedField(queryset=FunctionType.objects.all())
    from_date = serializers.DateField(required=False)
    to_date = serializers.DateField(required=False, allow_null=True)
    contact = serializers.ChoiceField(
        choices=FunctionContact.choices, default=FunctionContact.PERSON_STANDARD
    )
    contact_set = serializers.PrimaryKeyRelatedField(
        queryset=ContactSet.objects.none(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Only with contact=contact_set: one of the person's own sets (P-10).",
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent when drf-spectacular builds the schema
        if request is not None:
            self.fields["person"].queryset = access.scope(
                request.user, Capability.PERSONS_VIEW, Person.objects.all()
            )
            self.fields["organisation"].queryset = access.visible_organisations(request.user)
            self.fields["contact_set"].queryset = _visible_contact_sets(request)


def _visible_contact_sets(request: Request):  # type: ignore[no-untyped-def]
    return access.scope(request.user, Capability.PERSONS_VIEW, ContactSet.objects.all())


class FunctionUpdateInput(RejectImmutableFieldsMixin, serializers.Serializer):
    immutable_fields = ("person", "organisation", "function_type", "id", "is_licensed")
    from_date = serializers.DateField(required=False)
    to_date = serializers.DateField(required=False, allow_null=True)
    contact = serializers.ChoiceField(choices=FunctionContact.choices, required=False)
    contact_set = serializers.PrimaryKeyRelatedField(
        queryset=ContactSet.objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["contact_set"].queryset = _visible_contact_sets(request)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["active", "inactive", "all"]),
            OpenApiParameter("organisation", int, description="This organisation and below"),
            OpenApiParameter("person", int, description="One person's functions"),
        ]
    )
)
class FunctionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Functions (P-10) the user may see: in organisations where they may view persons, and
    their own."""

    serializer_class = FunctionOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        params = self.request.query_params
        organisation = None
        if params.get("organisation", "").isdigit():
            organisation = (
                access.visible_organisations(self.request.user)
                .filter(pk=int(params["organisation"]))
                .first()
            )
            if organisation is None:
                return Function.objects.none()
        status_filter = params.get("status", "all" if self.action != "list" else "active")
        queryset = selectors.function_list(
            user=self.request.user, organisation=organisation, status=status_filter
        )
        if params.get("person", "").isdigit():
            queryset = queryset.filter(person_id=int(params["person"]))
        return queryset

    @extend_schema(request=FunctionCreateInput, responses={201: FunctionOutput})
    def create(self, request: Request) -> Response:
        serializer = FunctionCreateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        function = services.function_create(actor=request.user, **serializer.validated_data)
        return Response(FunctionOutput(function).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FunctionUpdateInput, responses={200: FunctionOutput})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        function = self.get_object()
        serializer = FunctionUpdateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        function = services.function_update(
            actor=request.user, function=function, **serializer.validated_data
        )
        return Response(FunctionOutput(function).data)

    @extend_schema(request=None, responses={200: FunctionOutput})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        function = services.function_end(actor=request.user, function=self.get_object())
        return Response(FunctionOutput(function).data)

    @extend_schema(request=None, responses={200: FunctionOutput})
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        function = services.function_activate(actor=request.user, function=self.get_object())
        return Response(FunctionOutput(function).data)
