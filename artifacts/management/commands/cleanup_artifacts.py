from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat

from artifacts import services


class Command(BaseCommand):
    help = "Delete artifacts (files and rows) older than ARTIFACT_RETENTION_DAYS, as the daily task does."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only report what would be deleted.")

    def handle(self, *args, dry_run: bool, **options):
        cutoff = services.artifacts_retention_cutoff()
        result = services.artifacts_expired_delete(older_than=cutoff, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {result.count} artifact(s) created before {cutoff:%Y-%m-%d %H:%M} UTC, "
            f"{filesizeformat(result.bytes)} ({result.bytes} bytes)."
        )
