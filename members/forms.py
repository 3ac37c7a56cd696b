from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from members.models import FunctionType, Organisation, Person


class FunctionForm(forms.Form):
    """P-10: a new function; from-date defaults to today, to-date open."""

    person = forms.ModelChoiceField(
        queryset=Person.objects.none(), label=_("Person"), widget=forms.HiddenInput
    )
    function_type = forms.ModelChoiceField(
        queryset=FunctionType.objects.none(), label=_("Function type")
    )
    from_date = forms.DateField(
        label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    to_date = forms.DateField(
        label=_("To date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args, persons: QuerySet[Person], organisation: Organisation, **kwargs
    ) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = persons
        self.fields["function_type"].queryset = FunctionType.objects.filter(
            Q(organisation_types=[])
            | Q(organisation_types__contains=[organisation.organisation_type]),
            is_active=True,
        )
