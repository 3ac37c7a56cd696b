"""URLs of the payment pages (issue 6, scope 6), included by billing/urls.py."""

from django.urls import path

from billing import views_payments

urlpatterns = [
    path("clubs/<int:pk>/payments/", views_payments.payment_files, name="payment-files"),
    path(
        "clubs/<int:pk>/payments/reconciliation/",
        views_payments.reconciliation,
        name="payment-reconciliation",
    ),
    path(
        "payments/files/<int:pk>/",
        views_payments.payment_file_detail,
        name="payment-file-detail",
    ),
    path("payments/<int:pk>/assign/", views_payments.payment_assign, name="payment-assign"),
    path(
        "payments/<int:pk>/reconcile/", views_payments.payment_reconcile, name="payment-reconcile"
    ),
    path("payments/<int:pk>/refund/", views_payments.payment_refund, name="payment-refund"),
    path(
        "invoices/<int:pk>/payments/new/",
        views_payments.payment_register,
        name="payment-register",
    ),
]
