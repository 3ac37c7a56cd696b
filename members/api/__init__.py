"""API of the members app, one module per area. `register` puts every viewset on the router.

`persons` has two viewsets on one prefix: the search list (members.api.search) and the person
card (members.api.persons: retrieve, update, actions, nested contact sets and accounts).
"""

from rest_framework.routers import DefaultRouter

from members.api import functions, organisations


def register(router: DefaultRouter) -> None:
    router.register("organisations", organisations.OrganisationViewSet, basename="organisation")
    router.register("functions", functions.FunctionViewSet, basename="function")
    for module_name in ("search", "persons", "licences", "memberships"):
        module = _optional(module_name)
        if module is not None:
            module.register(router)


def _optional(name: str):  # type: ignore[no-untyped-def]
    """Area modules being written in parallel (issue 3) register themselves once present."""
    import importlib

    try:
        return importlib.import_module(f"members.api.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"members.api.{name}":
            raise
        return None
