"""Placeholder: this area's views are being written (issue 3)."""

urlpatterns: list = []
