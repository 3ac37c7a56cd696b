"""Placeholder: this area's views are being written (issue 3)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from members.views.common import person_card_context, person_or_404


@login_required
def _tab(request: HttpRequest, pk: int, tab: str) -> HttpResponse:
    person = person_or_404(request, pk)
    return render(request, "members/person/base.html", person_card_context(request, person, tab))


urlpatterns = [
    path("persons/<int:pk>/functions/", _tab, {"tab": "functions"}, name="person-functions"),
    path("persons/<int:pk>/licences/", _tab, {"tab": "licences"}, name="person-licences"),
    path("persons/<int:pk>/competences/", _tab, {"tab": "competences"}, name="person-competences"),
    path("persons/<int:pk>/transfers/", _tab, {"tab": "transfers"}, name="person-transfers"),
]
