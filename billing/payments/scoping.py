"""Access scoping of the payment models (called from `billing.apps.BillingConfig.ready`):
by the club's path."""

from billing.models_payments import Payment, PaymentFile
from clubadmin import access


def register_payment_models() -> None:
    access.register_scoped_model(PaymentFile, organisation_path="club__path")
    access.register_scoped_model(Payment, organisation_path="club__path")
