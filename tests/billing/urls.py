"""The project's URLs plus billing's, until clubadmin/urls.py includes them."""

from django.urls import include, path

from billing import api as billing_api
from clubadmin.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/", include(billing_api.urlpatterns)),
    path("billing/", include("billing.urls")),
    *project_urlpatterns,
]
