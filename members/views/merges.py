"""Pages for duplicate persons (P-14): filled in by issue 4."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
