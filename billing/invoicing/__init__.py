"""Invoicing (issue 6): runs, invoices, credit notes. Models in `billing.models_invoicing`."""
