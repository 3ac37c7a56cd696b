"""Billing API (issue 5): `GET /api/v1/persons/{id}/dues-preview?season=YYYY`, the same
engine and the same access as the preview pages (one source). Amounts are strings with their
currency. 404 for missing and forbidden persons; 400 naming `season` when it is missing or
invalid."""

from __future__ import annotations

from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from billing import pricing, selectors, views

SEASON_REQUIRED = "Give the season as a year, e.g. ?season=2027."


class SeasonInputSerializer(serializers.Serializer):
    season = serializers.IntegerField(
        min_value=2000, max_value=2100, error_messages={"required": SEASON_REQUIRED}
    )
    club = serializers.IntegerField(required=False)


def money(amount) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"amount": f"{amount:.2f}", "currency": pricing.CURRENCY}


def line_data(line: pricing.Line) -> dict:
    return {
        "fee": line.fee.value,
        "kind": line.kind.value,
        "rule_id": line.rule_id,
        "reason": line.reason,
        "amount": money(line.amount),
        "group": line.group,
        "cohort": line.cohort,
        "period": {"start": line.period.start, "end": line.period.end},
        "invoice_date": line.invoice_date,
        "due_date": line.due_date,
        "confidential": line.confidential,
    }


class PersonDuesPreviewView(APIView):
    """The dues a person will be invoiced for a season, each line with its rule and reason."""

    @extend_schema(
        parameters=[
            OpenApiParameter("season", OpenApiTypes.INT, required=True),
            OpenApiParameter("club", OpenApiTypes.INT, required=False),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, pk: int) -> Response:
        params = SeasonInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        season = params.validated_data["season"]
        club_pk = params.validated_data.get("club")
        try:
            person, club = views.person_and_club(request.user, pk, club_pk)
        except Http404 as error:
            raise NotFound from error
        try:
            preview = selectors.dues_preview(request.user, person, season, club=club)
        except (selectors.NoFeeSchedule, pricing.PricingError) as error:
            raise ValidationError({"season": [str(error)]}) from error
        dues = preview.person
        return Response(
            {
                "person": person.pk,
                "club": club.pk,
                "season": season,
                "family": dues.family_id,
                "redacted": preview.redacted,
                "lines": [line_data(line) for line in dues.lines],
                "total": money(dues.total),
                "issues": [issue.message for issue in dues.issues],
            },
            status=status.HTTP_200_OK,
        )


def register(router: DefaultRouter) -> None:
    """Billing has no viewsets yet; the dues preview is a plain view under the persons
    prefix of the members app (see `urlpatterns`)."""


# Included under /api/v1/ by clubadmin/urls.py (`path("api/v1/", include(billing.api))`).
urlpatterns = [
    path(
        "persons/<int:pk>/dues-preview",
        PersonDuesPreviewView.as_view(),
        name="person-dues-preview",
    ),
]
