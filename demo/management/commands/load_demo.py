from django.core.management.base import BaseCommand, CommandError

from demo.catalog import DEFAULT_BASE_URL, demo_project_load
from jbtestsuite.errors import ValidationFailed


class Command(BaseCommand):
    help = (
        "Create the Demo project (environment 'local', cases for the demo site at /demo/, two suites) "
        "unless it exists; running it again changes nothing but the base URL."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", default=DEFAULT_BASE_URL, help=f"Where the demo site is served (default {DEFAULT_BASE_URL})."
        )

    def handle(self, *args, base_url: str, **options):
        try:
            report = demo_project_load(base_url=base_url)
        except ValidationFailed as error:
            raise CommandError(error.message) from None
        if not report.changes:
            self.stdout.write(f"Demo project '{report.project.slug}' is already loaded; nothing changed.")
            return
        for change in report.changes:
            self.stdout.write(f"  {change}")
        self.stdout.write(
            self.style.SUCCESS(f"Demo project '{report.project.slug}' loaded: {len(report.changes)} change(s).")
        )
