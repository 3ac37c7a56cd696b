"""P-14 (issue 4): a detection run keeps the register's name frequencies it scores with (the
term frequency adjustment of `members.duplicates.scoring`). Runs made before have none: their
chunks score without the adjustment."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0013_duplicate_reconciler_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="detectionrun",
            name="name_frequencies",
            field=models.JSONField(blank=True, default=dict, verbose_name="name frequencies"),
        ),
    ]
