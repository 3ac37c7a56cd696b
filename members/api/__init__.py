"""API of the members app, one module per area. `register` puts every viewset on the router.

`persons` has two viewsets on one prefix: the search list (members.api.search) and the person
card (members.api.persons: retrieve, update, actions, nested contact sets and accounts).
"""

from rest_framework.routers import DefaultRouter

from members.api import functions, licences, memberships, organisations, persons, search


def register(router: DefaultRouter) -> None:
    router.register("organisations", organisations.OrganisationViewSet, basename="organisation")
    router.register("functions", functions.FunctionViewSet, basename="function")
    for module in (search, persons, licences, memberships):
        module.register(router)
