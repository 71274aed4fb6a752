"""The seeded "Renewals in the next 90 days" list gets its columns (ARR, health, contract end,
primary contact, latest interaction, recent NPS, CSM) in workspaces seeded before lists had
columns; a list someone already gave columns keeps them."""

from django.db import migrations

NAME = "Renewals in the next 90 days"
COLUMNS = ["name", "arr", "health", "renewal", "primary_contact", "latest_interaction", "recent_nps", "csm"]


def add_columns(apps, schema_editor):
    SavedList = apps.get_model("segments", "SavedList")
    for saved in SavedList._base_manager.filter(is_seeded=True, name=NAME):
        if not saved.columns:
            saved.columns = COLUMNS
            saved.save(update_fields=["columns"])


class Migration(migrations.Migration):
    dependencies = [("segments", "0001_initial")]

    operations = [migrations.RunPython(add_columns, migrations.RunPython.noop)]
