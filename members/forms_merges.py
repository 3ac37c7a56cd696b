"""The merge wizard's form (P-14): which record survives, the surviving person's data (each
field prefilled from the most recently changed record; the page's "use A"/"use B" buttons
copy the other record's value in), and the functions and licences to keep. It only parses
input: the rules live in `members.duplicates.merging`."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from members.duplicates import merging
from members.duplicates.merging import MergeSide
from members.forms_person import DATE_INPUT
from members.models import DuplicateCandidate, Gender, Person, User

SIDES = ("a", "b")
# The submit buttons of the wizard.
ACTION_PREVIEW = "preview"
ACTION_CONFIRM = "confirm"
ACTION_BACK = "back"
ACTION_PICK = "pick"  # value "<field>:<a|b>"


def _value_field(name: str) -> forms.Field:
    """The form field for one of the surviving person's values (never required here: the
    service says what is missing)."""
    label = str(Person._meta.get_field(name).verbose_name).capitalize()
    if name == "gender":
        return forms.ChoiceField(label=label, choices=Gender.choices)
    if name in ("birth_date", "date_of_death"):
        return forms.DateField(label=label, required=False, widget=DATE_INPUT)
    if name == "reserved_against_data_wash":
        return forms.BooleanField(label=label, required=False)
    return forms.CharField(label=label, required=False, max_length=100)


def person_fields(side_a: MergeSide, side_b: MergeSide) -> tuple[str, ...]:
    """The person fields the wizard offers: the date of death only when both are deceased."""
    both_deceased = side_a.person.is_deceased and side_b.person.is_deceased
    return tuple(
        name for name in merging.PERSON_DATA_FIELDS if name != "date_of_death" or both_deceased
    )


def widget_value(name: str, value: object) -> object:
    """A model value as the form's widget takes it."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None:
        return ""
    return value


class MergeForm(forms.Form):
    survivor = forms.ChoiceField(
        label=_("The record that survives"), widget=forms.RadioSelect, choices=()
    )

    def __init__(self, *args: Any, sides: tuple[MergeSide, MergeSide], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sides = dict(zip(SIDES, sides, strict=True))
        self.fields["survivor"].choices = [
            (
                key,
                _("Record %(key)s: %(name)s (id %(id)s)")
                % {"key": key.upper(), "name": side.person.full_name, "id": side.person.pk},
            )
            for key, side in self.sides.items()
        ]
        self.person_field_names = person_fields(*sides)
        for name in self.person_field_names:
            self.fields[name] = _value_field(name)
        for key, side in self.sides.items():
            self.fields[f"functions_{key}"] = forms.TypedMultipleChoiceField(
                label=_("Functions to keep"),
                choices=[
                    (function.pk, side.function_label(function)) for function in side.functions
                ],
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[f"licences_{key}"] = forms.TypedMultipleChoiceField(
                label=_("Licences to keep"),
                choices=[(licence.pk, side.licence_label(licence)) for licence in side.licences],
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )

    @classmethod
    def initial_for(cls, sides: tuple[MergeSide, MergeSide]) -> dict[str, object]:
        """The first proposal: the default survivor, the person info of the most recently
        changed record, every function and licence except repeats of the survivor's."""
        by_key = dict(zip(SIDES, sides, strict=True))
        survivor = merging.default_survivor(*sides)
        merged = by_key["b" if survivor.key == "a" else "a"]
        recent = merging.most_recent(*sides)
        functions, licences = merging.default_kept(survivor, merged)
        initial: dict[str, object] = {"survivor": survivor.key}
        for name in person_fields(*sides):
            initial[name] = widget_value(name, getattr(recent.person, name))
        for key, side in by_key.items():
            initial[f"functions_{key}"] = [f.pk for f in side.functions if f.pk in functions]
            initial[f"licences_{key}"] = [lic.pk for lic in side.licences if lic.pk in licences]
        return initial

    @classmethod
    def initial_from_data(
        cls, data: QueryDict, sides: tuple[MergeSide, MergeSide], pick: str = ""
    ) -> dict[str, object]:
        """The posted values as the initial values of a fresh form (back from the preview,
        or after "use A"/"use B": `pick` is "<field>:<a|b>")."""
        initial: dict[str, object] = {"survivor": data.get("survivor", "")}
        names = person_fields(*sides)
        for name in names:
            initial[name] = data.get(name, "")
        for key in SIDES:
            initial[f"functions_{key}"] = data.getlist(f"functions_{key}")
            initial[f"licences_{key}"] = data.getlist(f"licences_{key}")
        name, _colon, key = pick.partition(":")
        if name in names and key in SIDES:
            side = dict(zip(SIDES, sides, strict=True))[key]
            initial[name] = widget_value(name, getattr(side.person, name))
        return initial

    def merge_arguments(
        self, *, actor: User | None, candidate: DuplicateCandidate | None
    ) -> dict[str, object]:
        data = self.cleaned_data
        survivor_key = data["survivor"]
        merged_key = "b" if survivor_key == "a" else "a"
        return {
            "actor": actor,
            "survivor": self.sides[survivor_key].person,
            "merged": self.sides[merged_key].person,
            "person_data": self.person_data(),
            "keep_function_ids": [*data["functions_a"], *data["functions_b"]],
            "keep_licence_ids": [*data["licences_a"], *data["licences_b"]],
            "candidate": candidate,
        }

    def side_blocks(self) -> list[Mapping[str, object]]:
        """Per record: the record and its function and licence checkboxes."""
        return [
            {
                "side": side,
                "functions": self[f"functions_{key}"],
                "licences": self[f"licences_{key}"],
            }
            for key, side in self.sides.items()
        ]

    def person_data(self) -> dict[str, object]:
        return {name: self.cleaned_data.get(name) for name in self.person_field_names}

    def comparison_rows(self) -> list[Mapping[str, object]]:
        """One row per person field: both records' values and the field to edit."""
        rows = []
        for name in self.person_field_names:
            values = {key: getattr(side.person, name) for key, side in self.sides.items()}
            rows.append(
                {
                    "name": name,
                    "field": self[name],
                    "a": merging.display_value(name, values["a"]),
                    "b": merging.display_value(name, values["b"]),
                    "differ": values["a"] != values["b"],
                }
            )
        return rows
