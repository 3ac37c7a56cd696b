from django.urls import path

from members.views import organisations as views

app_name = "members"
urlpatterns = [
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation-detail"),
    path(
        "organisations/<int:pk>/functions/",
        views.organisation_functions,
        name="organisation-functions",
    ),
    path("organisations/<int:pk>/functions/add/", views.function_add, name="function-add"),
    path("organisations/<int:pk>/person-lookup/", views.person_lookup, name="person-lookup"),
    path("functions/<int:pk>/end/", views.function_end, name="function-end"),
    path("functions/<int:pk>/activate/", views.function_activate, name="function-activate"),
]
