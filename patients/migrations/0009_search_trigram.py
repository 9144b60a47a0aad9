"""Patient search (code or name contains ...) with trigram indexes on PostgreSQL.

``icontains`` becomes ``UPPER(column) LIKE UPPER('%term%')``: a GIN trigram index on
``UPPER(column)`` serves it. PostgreSQL only (pg_trgm ships with PostgreSQL); the demo's
SQLite database searches without it.
"""

from django.db import migrations

INDEXES = {
    "patient_code_trgm": "UPPER(code::text)",
    "patient_name_trgm": "UPPER(full_name::text)",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON patients_patient USING gin (({expression}) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("patients", "0008_care_team_index")]
    operations = [migrations.RunPython(forwards, backwards)]
