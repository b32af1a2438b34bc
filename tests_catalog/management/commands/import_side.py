"""Import Selenium IDE projects (.side files) into a project: exit 0 when every file imported, 1 otherwise."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jbtestsuite.errors import ApplicationError
from tests_catalog import side
from tests_catalog.models import Project


class Command(BaseCommand):
    help = "Import Selenium IDE .side files; each file is imported whole or not at all."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help=".side file(s)")
        parser.add_argument("--project", required=True, help="slug of the project to import into")
        parser.add_argument("--base-url", help="base URL for the environment (instead of the file's url)")
        parser.add_argument(
            "--allow-unknown", action="store_true", help="import commands Selenium IDE does not have as disabled steps"
        )

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug {options['project']!r}.", returncode=2)
        failures = 0
        for name in options["files"]:
            path = Path(name)
            try:
                if not path.is_file():
                    raise ApplicationError(f"{name}: no such file.")
                if path.stat().st_size > settings.MAX_UPLOAD_SIZE:
                    raise ApplicationError(
                        f"{name} is {path.stat().st_size} bytes; the largest .side file accepted is "
                        f"{settings.MAX_UPLOAD_SIZE} bytes (MAX_UPLOAD_SIZE)."
                    )
                report = side.side_import(
                    project=project, author=None, content=path.read_bytes(), filename=path.name,
                    base_url=options["base_url"], allow_unknown=options["allow_unknown"],
                )  # fmt: skip
            except ApplicationError as error:
                failures += 1
                self.stderr.write(f"{name}: not imported: {error.message}")
                continue
            for line in report.lines():
                self.stdout.write(line)
        if failures:
            raise CommandError(f"{failures} of {len(options['files'])} file(s) not imported.", returncode=1)
