# Issue 6 scope 6: online card payment (billing.models_online).

import django.contrib.postgres.fields
import django.db.models.deletion
import djmoney.models.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_delivery_schedules"),
        ("members", "0013_duplicate_reconciler_schedule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CheckoutSession",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("provider", models.CharField(max_length=20, verbose_name="provider")),
                (
                    "provider_session_id",
                    models.CharField(
                        blank=True, max_length=200, verbose_name="provider's session id"
                    ),
                ),
                (
                    "scope",
                    models.CharField(
                        choices=[("family", "The whole family"), ("self", "Only myself")],
                        max_length=10,
                        verbose_name="pays for",
                    ),
                ),
                (
                    "person_ids",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(),
                        default=list,
                        size=None,
                        verbose_name="persons",
                    ),
                ),
                (
                    "total_currency",
                    djmoney.models.fields.CurrencyField(
                        choices=[("NOK", "Norwegian Krone")],
                        default="NOK",
                        editable=False,
                        max_length=3,
                    ),
                ),
                (
                    "total",
                    djmoney.models.fields.MoneyField(
                        decimal_places=2, max_digits=12, verbose_name="total"
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("open", "Waiting for payment"),
                            ("paid", "Paid"),
                            ("failed", "Payment failed"),
                            ("expired", "Expired"),
                        ],
                        default="open",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                (
                    "redirect_url",
                    models.URLField(blank=True, max_length=2000, verbose_name="payment page"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="started at")),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="finished at"),
                ),
                (
                    "club",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="members.organisation",
                        verbose_name="club",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="started by",
                    ),
                ),
                (
                    "payer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="members.person",
                        verbose_name="paid by",
                    ),
                ),
            ],
            options={
                "verbose_name": "online checkout",
                "verbose_name_plural": "online checkouts",
                "ordering": ["-created_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="CheckoutLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "amount_currency",
                    djmoney.models.fields.CurrencyField(
                        choices=[("NOK", "Norwegian Krone")],
                        default="NOK",
                        editable=False,
                        max_length=3,
                    ),
                ),
                (
                    "amount",
                    djmoney.models.fields.MoneyField(
                        decimal_places=2, max_digits=12, verbose_name="amount"
                    ),
                ),
                (
                    "invoice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="billing.invoice",
                        verbose_name="invoice",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="billing.checkoutsession",
                        verbose_name="checkout",
                    ),
                ),
            ],
            options={
                "verbose_name": "online checkout line",
                "verbose_name_plural": "online checkout lines",
                "ordering": ["session", "invoice"],
            },
        ),
        migrations.CreateModel(
            name="ProviderEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("provider", models.CharField(max_length=20, verbose_name="provider")),
                ("event_id", models.CharField(max_length=200, verbose_name="event id")),
                ("event_type", models.CharField(max_length=100, verbose_name="event type")),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("recorded", "Payment recorded"),
                            ("already_paid", "Checkout already paid"),
                            ("closed", "Checkout closed"),
                            ("ignored", "Ignored"),
                            ("rejected", "Rejected"),
                        ],
                        max_length=20,
                        verbose_name="outcome",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("payload", models.JSONField(blank=True, default=dict, verbose_name="payload")),
                (
                    "received_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="received at"),
                ),
                (
                    "session",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="billing.checkoutsession",
                        verbose_name="checkout",
                    ),
                ),
            ],
            options={
                "verbose_name": "payment provider event",
                "verbose_name_plural": "payment provider events",
                "ordering": ["-received_at", "-pk"],
            },
        ),
        migrations.AddIndex(
            model_name="checkoutsession",
            index=models.Index(fields=["payer", "state"], name="checkout_payer_state_idx"),
        ),
        migrations.AddConstraint(
            model_name="checkoutsession",
            constraint=models.UniqueConstraint(
                condition=models.Q(("provider_session_id", ""), _negated=True),
                fields=("provider", "provider_session_id"),
                name="checkout_session_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="checkoutsession",
            constraint=models.CheckConstraint(
                condition=models.Q(("total__gt", 0)), name="checkout_total_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="checkoutline",
            constraint=models.UniqueConstraint(
                fields=("session", "invoice"), name="checkout_line_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="checkoutline",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="checkout_line_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="providerevent",
            constraint=models.UniqueConstraint(
                fields=("provider", "event_id"), name="provider_event_once"
            ),
        ),
    ]
