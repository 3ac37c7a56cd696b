"""API: person search (P-01..P-03), `GET /api/v1/persons/`.

List only (the person card's viewset, members.api.persons, serves `/api/v1/persons/{id}/` on
the same prefix). The same selector and scope as the search page: at most the first 100
matches, paginated; at least one criterion (400 naming rule P-02); invalid criteria give 400
naming the parameter. Unlike the page, the country is always given.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from clubadmin import access
from clubadmin.api import Pagination
from clubadmin.capabilities import Capability
from members import search
from members.models import Gender, Person

PARAMETER_HELP = {
    "q": "Name parts separated by spaces, each in the first or last name (P-01).",
    "first_name": "First name, or parts of it.",
    "last_name": "Last name, or parts of it.",
    "gender": "male, female or unknown.",
    "birth_date": "YYYY-MM-DD or DD.MM.YYYY.",
    "birth_year": "Four digits.",
    "sports_id": "Current or previous sports id (P-05).",
    "organisation": "Organisation id: persons with a function in it or below it.",
    "function_type": "Function type number or name; * for any characters (Tren*, 1*).",
    "postcode": "The first digits of a postcode, or the beginning of a place name.",
    "country": "ISO 3166-1 country code, e.g. SE.",
    "deceased": "true: deceased persons only; false (default): living persons only.",
}


class PersonSearchOutput(serializers.ModelSerializer):
    postcode = serializers.CharField(source="contact_postcode", allow_null=True)
    city = serializers.CharField(source="contact_city", allow_null=True)
    country = serializers.CharField(source="contact_country", allow_null=True)
    gender = serializers.ChoiceField(choices=Gender.choices)

    class Meta:
        model = Person
        fields = [
            "id",
            "sports_id",
            "first_name",
            "middle_name",
            "last_name",
            "gender",
            "birth_date",
            "is_deceased",
            "postcode",
            "city",
            "country",
        ]


class SearchPagination(Pagination):
    """The project's pagination over the (at most 100) results, telling whether there were
    more matches than that (P-03)."""

    has_more_matches = False

    def get_paginated_response(self, data: list) -> Response:
        response = super().get_paginated_response(data)
        response.data["has_more_matches"] = self.has_more_matches
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["has_more_matches"] = {
            "type": "boolean",
            "description": "More persons matched than the first 100 (narrow the search).",
        }
        return paginated


@extend_schema_view(
    list=extend_schema(
        parameters=[
            *(
                OpenApiParameter(name, str, description=description)
                for name, description in PARAMETER_HELP.items()
            ),
            OpenApiParameter(
                "ordering",
                str,
                enum=[choice for choice in search.ORDERING_CHOICES if choice],
                description="Sort the first 100 matches (default: best match first).",
            ),
        ]
    )
)
class PersonSearchViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Persons the user may see that match the criteria of P-02, best match first."""

    serializer_class = PersonSearchOutput
    pagination_class = SearchPagination
    queryset = Person.objects.none()  # the selector decides; this only names the model

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        if not access.has_capability_anywhere(request.user, Capability.PERSONS_VIEW):
            raise exceptions.PermissionDenied()
        try:
            ordering = search.parse_ordering(request.query_params.get("ordering"))
            criteria = search.parse_criteria(request.query_params)
            result = search.person_search(user=request.user, criteria=criteria, ordering=ordering)
        except search.CriteriaError as error:
            raise exceptions.ValidationError(_named(error.errors)) from error
        except ValueError as error:
            raise exceptions.ValidationError({"ordering": [str(error)]}) from error
        page = self.paginate_queryset(result.persons)
        self.paginator.has_more_matches = result.has_more
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _named(errors: dict[str, str]) -> dict[str, list[str]]:
    return {
        ("non_field_errors" if name == search.NON_FIELD else name): [message]
        for name, message in errors.items()
    }


def register(router: DefaultRouter) -> None:
    router.register("persons", PersonSearchViewSet, basename="person-search")
