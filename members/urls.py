from django.urls import path

from members.views import (
    duplicates,
    member_import,
    memberships,
    merges,
    organisations,
    person_card,
    person_functions,
    search,
)

app_name = "members"
urlpatterns = [
    path("organisations/<int:pk>/", organisations.organisation_detail, name="organisation-detail"),
    path(
        "organisations/<int:pk>/functions/",
        organisations.organisation_functions,
        name="organisation-functions",
    ),
    path("organisations/<int:pk>/functions/add/", organisations.function_add, name="function-add"),
    path(
        "organisations/<int:pk>/person-lookup/", organisations.person_lookup, name="person-lookup"
    ),
    path("functions/<int:pk>/end/", organisations.function_end, name="function-end"),
    path("functions/<int:pk>/activate/", organisations.function_activate, name="function-activate"),
    *person_card.urlpatterns,
    *person_functions.urlpatterns,
    *search.urlpatterns,
    *memberships.urlpatterns,
    *duplicates.urlpatterns,
    *merges.urlpatterns,
    *member_import.urlpatterns,
]
