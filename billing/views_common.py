"""Helpers shared by the fee schedule and agreement pages (issue 5)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.forms import BaseFormSet, Form
from django.http import Http404, HttpRequest

from billing import page_access
from billing.models import FeeSchedule
from billing.views import season_from

__all__ = ["PAGE_SIZE", "add_errors", "page", "schedule_or_404", "season_from"]

PAGE_SIZE = 50


def add_errors(form: Form | BaseFormSet, error: ValidationError) -> None:
    """A service's ValidationError on the form: on its field when the form has it."""
    if isinstance(form, BaseFormSet):
        form._non_form_errors = form.error_class(error.messages)  # shown above the rows
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


def schedule_or_404(request: HttpRequest, pk: int, *, manage: bool = False) -> FeeSchedule:
    """A fee schedule of a club whose billing pages the user may see (or change)."""
    schedule = FeeSchedule.objects.select_related("club").filter(pk=pk).first()
    if schedule is None:
        raise Http404
    page_access.club_or_404(request.user, schedule.club_id, manage=manage)
    return schedule


def page(request: HttpRequest, rows: Any) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
