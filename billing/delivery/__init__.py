"""Delivery of invoices (e-mail outbox, paper list) and reminders (issue 6, scopes 4 and 5)."""
