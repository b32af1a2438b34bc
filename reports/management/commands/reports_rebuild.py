from django.core.management.base import BaseCommand

from reports.services import reports_rebuild


class Command(BaseCommand):
    help = "Recompute every report (labels, flaky cases, failure groups, trends) from the executions."

    def handle(self, *args, **options):
        counts = reports_rebuild()
        self.stdout.write(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in counts.items()))
