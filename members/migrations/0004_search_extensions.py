"""Database pieces for search and constraints (issue 3): pg_trgm and unaccent for accent- and
typo-tolerant name search, btree_gist for exclusion constraints on date ranges, the immutable
`clubadmin_fold` function for generated folded-name columns, and the sports id sequence."""

from django.contrib.postgres.operations import (
    BtreeGistExtension,
    TrigramExtension,
    UnaccentExtension,
)
from django.db import migrations

FOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION clubadmin_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$;
"""


class Migration(migrations.Migration):
    dependencies = [("members", "0003_organisation_number_message")]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        BtreeGistExtension(),
        migrations.RunSQL(FOLD_FUNCTION, "DROP FUNCTION IF EXISTS clubadmin_fold(text);"),
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS members_sports_id_serial;",
            "DROP SEQUENCE IF EXISTS members_sports_id_serial;",
        ),
    ]
