"""Placeholder: membership views are being written (issue 5)."""

urlpatterns: list = []
