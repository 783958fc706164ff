import django.db.models.deletion
from django.db import migrations, models


def copy_references(apps, schema_editor):
    SetupAccess = apps.get_model("console", "SetupAccess")
    Setup = apps.get_model("flow", "Setup")
    for access in SetupAccess.objects.filter(reference="").only("pk", "setup_id"):
        access.reference = Setup.objects.filter(pk=access.setup_id).values_list("reference", flat=True).first() or ""
        access.save(update_fields=["reference"])


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0001_initial"),
        ("flow", "0002_setup_indexes_for_what_is_asked"),
    ]

    operations = [
        migrations.AddField(
            model_name="setupaccess",
            name="reference",
            field=models.CharField(default="", max_length=9),
            preserve_default=False,
        ),
        migrations.RunPython(copy_references, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="setupaccess",
            name="setup",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="agent_accesses",
                to="flow.setup",
            ),
        ),
    ]
