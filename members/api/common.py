"""Pieces shared by the members API modules."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

FIELD_CANNOT_BE_CHANGED = _("This field cannot be changed through an update.")


class RejectImmutableFieldsMixin:
    """Reject (not silently ignore) fields that must not change through an update, so that a
    client trying to move a record to another organisation gets a clear error."""

    immutable_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        errors = {name: [FIELD_CANNOT_BE_CHANGED] for name in self.immutable_fields if name in data}
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]
