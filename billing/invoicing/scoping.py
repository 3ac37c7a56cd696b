"""Access scoping of the invoicing models (called from `billing.apps.BillingConfig.ready`):
by the club's path; a payer always sees their own invoices."""

from billing.models_invoicing import Invoice, InvoiceLine, InvoicingRun
from clubadmin import access


def register_invoicing_models() -> None:
    access.register_scoped_model(Invoice, organisation_path="club__path", own_person="payer_id")
    access.register_scoped_model(InvoiceLine, organisation_path="club__path")
    access.register_scoped_model(InvoicingRun, organisation_path="club__path")
