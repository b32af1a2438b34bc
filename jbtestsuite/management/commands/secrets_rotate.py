"""Re-encrypt every stored secret with the first key of SECRETS_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from jbtestsuite import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of SECRETS_ENCRYPTION_KEYS. Run it after putting "
        "a new key first; remove the old key only once it has finished."
    )

    def handle(self, *args, **options):
        total = 0
        for model, name in crypto.encrypted_fields():
            rotated = 0
            with transaction.atomic():
                # Reading decrypts with whichever key fits; writing encrypts with the first one.
                try:
                    rows = list(model.objects.select_for_update().exclude(**{name: ""}).values_list("pk", name))
                except crypto.SecretUnreadable as error:
                    raise CommandError(f"{model._meta.label}.{name}: {error}") from None
                for pk, value in rows:
                    model.objects.filter(pk=pk).update(**{name: value})
                    rotated += 1
            self.stdout.write(f"{model._meta.label}.{name}: {rotated} value(s) re-encrypted")
            total += rotated
        self.stdout.write(self.style.SUCCESS(f"{total} secret(s) now use the first key."))
