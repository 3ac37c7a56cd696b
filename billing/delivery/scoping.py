"""Access scoping of the delivery and reminder models (called from
`billing.apps.BillingConfig.ready`): by the club's path."""

from billing.models_delivery import InvoiceDelivery, Reminder, ReminderPolicy, TeamUnpaidNotice
from clubadmin import access


def register_delivery_models() -> None:
    for model in (InvoiceDelivery, Reminder, ReminderPolicy, TeamUnpaidNotice):
        access.register_scoped_model(model, organisation_path="club__path")
