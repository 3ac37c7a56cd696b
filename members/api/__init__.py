"""API of the members app, one module per area. `register` puts every viewset on the router."""

from rest_framework.routers import DefaultRouter

from members.api import functions, organisations


def register(router: DefaultRouter) -> None:
    router.register("organisations", organisations.OrganisationViewSet, basename="organisation")
    router.register("functions", functions.FunctionViewSet, basename="function")
