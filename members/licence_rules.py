"""Pure rules of licences (P-12): plain values in, plain values out, no ORM.

What a licence allows depends on its status and on whether its function is still active:

| status     | actions                                                                     |
| ---------- | --------------------------------------------------------------------------- |
| registered | add payment, issue (send), edit function info, change delivery address      |
| issued     | change type, add/return payment, re-send, edit function info, change address |
| paid       | return payment, edit function info (no change of type: "until paid")        |
| cancelled  | nothing                                                                     |

A licence whose function is passive (ended) only offers "reactivate", which activates the
function again.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from enum import StrEnum


class LicenceAction(StrEnum):
    ISSUE = "issue"
    RESEND = "resend"
    CHANGE_TYPE = "change_type"
    ADD_PAYMENT = "add_payment"
    RETURN_PAYMENT = "return_payment"
    CHANGE_DELIVERY = "change_delivery"
    EDIT_FUNCTION = "edit_function"
    REACTIVATE = "reactivate"


_BY_STATUS: dict[str, frozenset[LicenceAction]] = {
    "registered": frozenset(
        {
            LicenceAction.ADD_PAYMENT,
            LicenceAction.ISSUE,
            LicenceAction.EDIT_FUNCTION,
            LicenceAction.CHANGE_DELIVERY,
        }
    ),
    "issued": frozenset(
        {
            LicenceAction.CHANGE_TYPE,
            LicenceAction.ADD_PAYMENT,
            LicenceAction.RETURN_PAYMENT,
            LicenceAction.RESEND,
            LicenceAction.EDIT_FUNCTION,
            LicenceAction.CHANGE_DELIVERY,
        }
    ),
    "paid": frozenset({LicenceAction.RETURN_PAYMENT, LicenceAction.EDIT_FUNCTION}),
    "cancelled": frozenset(),
}


def allowed_actions(status: str, *, function_is_active: bool) -> frozenset[LicenceAction]:
    """P-12: the actions a licence in `status` offers. With a passive function the licence
    must be reactivated first (which activates the function)."""
    if status == "cancelled":
        return frozenset()
    if not function_is_active:
        return frozenset({LicenceAction.REACTIVATE})
    return _BY_STATUS[status]


def function_is_passive(to_date: datetime.date | None, today: datetime.date) -> bool:
    """P-10/P-12: a function ended ("End function" sets the to-date to today) is passive."""
    return to_date is not None and to_date <= today


def email_sending_allowed(email: str) -> bool:
    """P-12: sending a licence by e-mail is only offered when there is an e-mail address."""
    return bool(email and email.strip())


def status_after_payments(
    *, status: str, amount_due: Decimal, amount_paid: Decimal, was_issued: bool
) -> str:
    """P-12: fully paid -> paid; a returned payment takes a paid licence back to issued (or
    registered when it was never issued)."""
    if status == "cancelled":
        return status
    if amount_paid >= amount_due:
        return "paid"
    if status == "paid":
        return "issued" if was_issued else "registered"
    return status
