from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat

from artifacts import services


class Command(BaseCommand):
    help = "Delete artifacts (files and rows) older than ARTIFACT_RETENTION_DAYS, as the daily task does."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only report what would be deleted.")
        parser.add_argument(
            "--orphans",
            action="store_true",
            help="Instead: delete stored files that no artifact row points at (older than an hour).",
        )

    def handle(self, *args, dry_run: bool, orphans: bool, **options):
        if orphans:
            found = services.artifact_files_orphaned_delete(dry_run=dry_run)
            verb = "Would delete" if dry_run else "Deleted"
            self.stdout.write(
                f"{verb} {found.count} file(s) with no artifact row, "
                f"{filesizeformat(found.bytes)} ({found.bytes} bytes)."
            )
            return
        cutoff = services.artifacts_retention_cutoff()
        result = services.artifacts_expired_delete(older_than=cutoff, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {result.count} artifact(s) created before {cutoff:%Y-%m-%d %H:%M} UTC, "
            f"{filesizeformat(result.bytes)} ({result.bytes} bytes)."
        )
