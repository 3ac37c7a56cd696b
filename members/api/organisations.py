"""API for organisations (/api/v1/organisations/).

Input and output serializers are kept apart; every queryset comes from clubadmin.access or a
selector built on it; writes go through members.services. The organisation a record belongs
to is never writable through an update.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from clubadmin import access
from members import selectors, services
from members.api.common import RejectImmutableFieldsMixin
from members.models import ORGANISATION_DATA_FIELDS, Organisation, OrganisationType


class OrganisationOutput(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()

    class Meta:
        model = Organisation
        fields = ["id", "organisation_type", "parent", "depth", *ORGANISATION_DATA_FIELDS]

    def get_parent(self, organisation: Organisation) -> int | None:
        parents = self.context.get("parents", {})
        parent = parents.get(organisation.path[: -Organisation.steplen])
        return parent.pk if parent else None


class OrganisationCreateInput(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())

    class Meta:
        model = Organisation
        fields = ["parent", "organisation_type", *ORGANISATION_DATA_FIELDS]
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
        fields = [*ORGANISATION_DATA_FIELDS]
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
