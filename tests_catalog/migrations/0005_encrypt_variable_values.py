"""Environment variable values become Fernet tokens (jbtestsuite.crypto); existing rows are encrypted.

The rows are rewritten while the field is still plain text in the migration state, and only
then does the field become EncryptedTextField: the column stays `text` throughout.
"""

from django.db import migrations

import jbtestsuite.crypto


def _values_encrypt(apps, schema_editor):
    from jbtestsuite.crypto import encrypt, is_token

    variable_model = apps.get_model("tests_catalog", "EnvironmentVariable")
    for pk, value in variable_model.objects.exclude(value="").values_list("pk", "value").iterator():
        if not is_token(value):
            variable_model.objects.filter(pk=pk).update(value=encrypt(value))


def _values_decrypt(apps, schema_editor):
    from jbtestsuite.crypto import decrypt, is_token

    variable_model = apps.get_model("tests_catalog", "EnvironmentVariable")
    for pk, value in variable_model.objects.exclude(value="").values_list("pk", "value").iterator():
        if is_token(value):
            variable_model.objects.filter(pk=pk).update(value=decrypt(value))


class Migration(migrations.Migration):
    dependencies = [("tests_catalog", "0004_search_trigram_indexes")]

    operations = [
        migrations.RunPython(_values_encrypt, _values_decrypt, elidable=False),
        migrations.AlterField(
            model_name="environmentvariable",
            name="value",
            field=jbtestsuite.crypto.EncryptedTextField(blank=True),
        ),
    ]
