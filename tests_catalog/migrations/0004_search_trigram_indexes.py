"""Trigram indexes for the case list's `search=` (name or description contains, any case).

`icontains` is `UPPER(column::text) LIKE UPPER('%text%')` on PostgreSQL: no b-tree helps with a
leading wildcard, so every search read the whole table (100 000 cases: ~0.8 s). GIN indexes of
pg_trgm trigrams over exactly those expressions let PostgreSQL find the matches of any text of
three or more characters directly. SQLite (the embedded default) keeps scanning: no-op there.
"""

from django.db import migrations

INDEXES = {
    "testcase_name_trgm": "UPPER(name::text) gin_trgm_ops",
    "testcase_description_trgm": "UPPER(description::text) gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON tests_catalog_testcase USING gin ({expression})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tests_catalog", "0003_list_sort_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
