"""Helpers shared by the members views."""

from django.http import Http404, HttpRequest

from clubadmin import access
from clubadmin.capabilities import Capability
from members.models import MergeState, Person, PersonMerge


def person_or_404(
    request: HttpRequest, pk: int, capability: str = Capability.PERSONS_VIEW
) -> Person:
    """The person if the user holds `capability` for them; 404 for missing and forbidden."""
    return access.get_object_or_404(request.user, capability, Person.objects.all(), pk=pk)


def person_card_context(request: HttpRequest, person: Person, tab: str) -> dict[str, object]:
    """What the person card's frame (templates/members/person/base.html) needs."""
    user = request.user
    may_edit_person = access.can(user, Capability.PERSONS_EDIT, person)
    return {
        "person": person,
        "tab": tab,
        "may_edit_person": may_edit_person,
        "may_see_transfers": access.has_capability_anywhere(user, Capability.TRANSFERS_ADMIN),
        # P-09: bank accounts are sensitive: persons.edit, or the person themself.
        "may_see_accounts": may_edit_person or user.person_id == person.pk,
        # P-14: the card of a merged person says into whom, and links the merge.
        "person_merge": (
            PersonMerge.objects.filter(merged=person, state=MergeState.MERGED)
            .select_related("survivor")
            .order_by("-performed_at")
            .first()
            if person.merged_into_id
            else None
        ),
        "may_see_merge": access.has_capability_anywhere(user, Capability.DUPLICATES_MERGE),
    }


def require(condition: bool) -> None:
    if not condition:
        raise Http404
