from django.urls import include, path

from billing import urls_pages, views

app_name = "billing"

urlpatterns = [
    path("persons/<int:pk>/dues/", views.person_dues, name="person-dues"),
    path("families/<int:pk>/dues/", views.family_dues, name="family-dues"),
    path("clubs/<int:pk>/dues/", views.club_dues, name="club-dues"),
    path("teams/<int:pk>/eligibility/", views.team_eligibility, name="team-eligibility"),
    *urls_pages.urlpatterns,  # fee schedules and agreements
    path("", include("billing.urls_payments")),  # issue 6: payments
    path("", include("billing.invoicing.views")),  # issue 6: invoicing runs, invoices, PDF
    path("", include("billing.delivery.views")),  # issue 6: delivery and reminders
    path("", include("billing.ledger.views")),  # issue 6: refunds, ledger, S-07 report
    path("", include("billing.online.views")),  # issue 6: online card payment
]
