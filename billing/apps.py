from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # Scope billing rows through the one access module (the extension point of
        # clubadmin.access): by the club's path, and a person always sees their own rows.
        from billing import models
        from clubadmin import access

        access.register_scoped_model(models.FeeSchedule, organisation_path="club__path")
        for model in (
            models.VolunteerContract,
            models.ExemptionAgreement,
            models.VolunteerHours,
            models.PaymentPreference,
            models.InstalmentPlan,
        ):
            access.register_scoped_model(
                model, organisation_path="club__path", own_person="person_id"
            )
        access.register_scoped_model(
            models.TrialPeriod, organisation_path="team__path", own_person="person_id"
        )
        # The family limit and the due date come from the club's fee schedule (issue 5).
        from billing.membership_settings import membership_settings
        from members import club_settings

        club_settings.register_provider(membership_settings)
        from billing.invoicing.scoping import register_invoicing_models  # issue 6

        register_invoicing_models()
        from billing.payments.scoping import register_payment_models  # issue 6: payments

        register_payment_models()
        from billing.delivery.scoping import register_delivery_models  # issue 6: delivery

        register_delivery_models()
        access.register_scoped_model(  # issue 6: refunds and payouts
            models.Refund, organisation_path="club__path", own_person="payee_id"
        )
        # Issue 5 scope 1: who owes dues (join warning, strike-off list) for members.
        from billing.dues_status import provider as dues_provider
        from members import dues_status

        dues_status.register_provider(dues_provider)

    def seed_demo_data(self, context) -> None:  # clubadmin.demo_hooks.DemoContext
        """`manage.py seed_demo`: the demo club's fee schedules and agreements (billing.demo)."""
        from billing import demo

        demo.seed(context)
