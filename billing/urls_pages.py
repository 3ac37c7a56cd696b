"""URLs of the fee schedule and agreement pages (issue 5), included by billing/urls.py."""

from django.urls import path

from billing import views_agreements as agreements
from billing import views_schedules as schedules

urlpatterns = [
    # fee schedules (M-04, M-10, M-11, M-15, D-01, D-07..D-11)
    path("clubs/<int:pk>/fee-schedules/", schedules.schedule_list, name="schedule-list"),
    path("clubs/<int:pk>/fee-schedules/new/", schedules.schedule_create, name="schedule-create"),
    path("fee-schedules/<int:pk>/", schedules.schedule_detail, name="schedule-detail"),
    path("fee-schedules/<int:pk>/settings/", schedules.schedule_settings, name="schedule-settings"),
    path("fee-schedules/<int:pk>/prices/", schedules.schedule_prices, name="schedule-prices"),
    path("fee-schedules/<int:pk>/copy/", schedules.schedule_copy, name="schedule-copy"),
    path("fee-schedules/<int:pk>/groups/new/", schedules.group_add, name="group-add"),
    path("activity-groups/<int:pk>/", schedules.group_edit, name="group-edit"),
    path("activity-groups/<int:pk>/fees/", schedules.group_fees, name="group-fees"),
    path("activity-groups/<int:pk>/delete/", schedules.group_delete, name="group-delete"),
    path("fee-schedules/<int:pk>/rules/new/", schedules.rule_add, name="rule-add"),
    path("fee-schedules/<int:pk>/rules/<str:rule_id>/", schedules.rule_edit, name="rule-edit"),
    path(
        "fee-schedules/<int:pk>/rules/<str:rule_id>/switch/",
        schedules.rule_switch,
        name="rule-switch",
    ),
    path("fee-schedules/<int:pk>/rules/<str:rule_id>/move/", schedules.rule_move, name="rule-move"),
    path(
        "fee-schedules/<int:pk>/rules/<str:rule_id>/delete/",
        schedules.rule_delete,
        name="rule-delete",
    ),
    # agreements, contracts, hours, trials, payment preferences (D-06, D-10, D-11, M-10, M-15)
    path("clubs/<int:pk>/persons/", agreements.person_lookup, name="person-lookup"),
    path("clubs/<int:pk>/agreements/", agreements.agreement_list, name="agreement-list"),
    path("clubs/<int:pk>/agreements/new/", agreements.agreement_add, name="agreement-add"),
    path("clubs/<int:pk>/hardship/", agreements.hardship_list, name="hardship-list"),
    path("agreements/<int:pk>/", agreements.agreement_edit, name="agreement-edit"),
    path("agreements/<int:pk>/delete/", agreements.agreement_delete, name="agreement-delete"),
    path("clubs/<int:pk>/volunteer-contracts/", agreements.contract_list, name="contract-list"),
    path("volunteer-contracts/<int:pk>/", agreements.contract_edit, name="contract-edit"),
    path(
        "volunteer-contracts/<int:pk>/delete/",
        agreements.contract_delete,
        name="contract-delete",
    ),
    path("clubs/<int:pk>/volunteer-hours/", agreements.hours_list, name="hours-list"),
    path("clubs/<int:pk>/trial-periods/", agreements.trial_list, name="trial-list"),
    path("trial-periods/<int:pk>/", agreements.trial_edit, name="trial-edit"),
    path("trial-periods/<int:pk>/delete/", agreements.trial_delete, name="trial-delete"),
    path("clubs/<int:pk>/payment-preferences/", agreements.payment_list, name="payment-list"),
]
