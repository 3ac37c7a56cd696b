"""API for organisations and functions (/api/v1/organisations/, /api/v1/functions/).

Input and output serializers are kept apart; every queryset comes from clubadmin.access or a
selector built on it; writes go through members.services. The organisation a record belongs
to is never writable through an update.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clubadmin import access
from clubadmin.capabilities import Capability
from members import selectors, services
from members.models import Function, FunctionType, Organisation, OrganisationType, Person

FIELD_CANNOT_BE_CHANGED = _("This field cannot be changed through an update.")


class RejectImmutableFieldsMixin:
    """Reject (not silently ignore) fields that must not change through an update, so that a
    client trying to move a record to another organisation gets a clear error."""

    immutable_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        errors = {name: [FIELD_CANNOT_BE_CHANGED] for name in self.immutable_fields if name in data}
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class OrganisationOutput(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "organisation_type",
            "parent",
            "depth",
            "is_active",
            "organisation_number",
            "sport",
            "street",
            "postcode",
            "city",
            "country",
            "email",
            "phone",
            "bank_account",
            "kid_algorithm",
            "kid_length",
        ]

    def get_parent(self, organisation: Organisation) -> int | None:
        parents = self.context.get("parents", {})
        parent = parents.get(organisation.path[: -Organisation.steplen])
        return parent.pk if parent else None


class OrganisationCreateInput(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())

    class Meta:
        model = Organisation
        fields = [
            "parent",
            "name",
            "organisation_type",
            "is_active",
            "organisation_number",
            "sport",
            "street",
            "postcode",
            "city",
            "country",
            "email",
            "phone",
            "bank_account",
            "kid_algorithm",
            "kid_length",
        ]
        extra_kwargs = {"organisation_number": {"validators": []}}

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent when drf-spectacular builds the schema
        if request is not None:
            self.fields["parent"].queryset = access.visible_organisations(request.user)


class OrganisationUpdateInput(RejectImmutableFieldsMixin, serializers.ModelSerializer):
    immutable_fields = ("parent", "organisation_type", "path", "depth", "id")

    class Meta:
        model = Organisation
        fields = [
            "name",
            "is_active",
            "organisation_number",
            "sport",
            "street",
            "postcode",
            "city",
            "country",
            "email",
            "phone",
            "bank_account",
            "kid_algorithm",
            "kid_length",
        ]
        extra_kwargs = {"organisation_number": {"validators": []}}


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Part of the name"),
            OpenApiParameter("type", str, enum=OrganisationType.values),
            OpenApiParameter("parent", int, description="Only direct children of this id"),
        ]
    )
)
class OrganisationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Organisations the user holds any capability in, and everything below them."""

    serializer_class = OrganisationOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        parent = self.request.query_params.get("parent")
        return selectors.organisation_list(
            user=self.request.user,
            search=self.request.query_params.get("search", ""),
            organisation_type=self.request.query_params.get("type", ""),
            parent_id=int(parent) if parent and parent.isdigit() else None,
        )

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        if self.action == "create":
            return OrganisationCreateInput
        if self.action in {"update", "partial_update"}:
            return OrganisationUpdateInput
        return OrganisationOutput

    def get_serializer_context(self):  # type: ignore[no-untyped-def]
        context = super().get_serializer_context()
        page = getattr(self, "_page", None)
        if page is not None:
            context["parents"] = selectors.organisation_parent_map(page)
        return context

    def paginate_queryset(self, queryset):  # type: ignore[no-untyped-def]
        self._page = super().paginate_queryset(queryset)
        return self._page

    def retrieve(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        organisation = self.get_object()
        self._page = [organisation]
        return Response(self._output(organisation))

    def _output(self, organisation: Organisation) -> dict:
        context = self.get_serializer_context()
        context["parents"] = selectors.organisation_parent_map([organisation])
        return OrganisationOutput(organisation, context=context).data

    @extend_schema(request=OrganisationCreateInput, responses={201: OrganisationOutput})
    def create(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        serializer = OrganisationCreateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organisation = services.organisation_create(actor=request.user, **data)
        return Response(self._output(organisation), status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganisationUpdateInput, responses={200: OrganisationOutput})
    def update(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        organisation = self.get_object()
        serializer = OrganisationUpdateInput(
            organisation, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        organisation = services.organisation_update(
            actor=request.user, organisation=organisation, **serializer.validated_data
        )
        return Response(self._output(organisation))


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
        ]


class FunctionCreateInput(serializers.Serializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none())
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())
    function_type = serializers.PrimaryKeyRelatedField(queryset=FunctionType.objects.all())
    from_date = serializers.DateField(required=False)
    to_date = serializers.DateField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent when drf-spectacular builds the schema
        if request is not None:
            self.fields["person"].queryset = access.scope(
                request.user, Capability.PERSONS_VIEW, Person.objects.all()
            )
            self.fields["organisation"].queryset = access.visible_organisations(request.user)


class FunctionUpdateInput(RejectImmutableFieldsMixin, serializers.Serializer):
    immutable_fields = ("person", "organisation", "function_type", "id")
    from_date = serializers.DateField(required=False)
    to_date = serializers.DateField(required=False, allow_null=True)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["active", "inactive", "all"]),
            OpenApiParameter("organisation", int, description="This organisation and below"),
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
        return selectors.function_list(
            user=self.request.user, organisation=organisation, status=status_filter
        )

    @extend_schema(request=FunctionCreateInput, responses={201: FunctionOutput})
    def create(self, request: Request) -> Response:
        serializer = FunctionCreateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        function = services.function_create(actor=request.user, **serializer.validated_data)
        return Response(FunctionOutput(function).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FunctionUpdateInput, responses={200: FunctionOutput})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        function = self.get_object()
        serializer = FunctionUpdateInput(data=request.data)
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
