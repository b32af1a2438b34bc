"""Export a project's cases as a Selenium IDE project (.side) that Selenium IDE and selenium-side-runner open."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tests_catalog import side
from tests_catalog.models import Project, TestCase


class Command(BaseCommand):
    help = "Write a project's cases (or some of them) as a .side file."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--case", action="append", default=[], metavar="NAME", help="only this case (repeatable)")
        parser.add_argument("--base-url", help="URL to write as the project's url")
        parser.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug {options['project']!r}.", returncode=2)
        cases = None
        if options["case"]:
            cases = list(TestCase.objects.filter(project=project, name__in=options["case"]))
            missing = sorted(set(options["case"]) - {case.name for case in cases})
            if missing:
                raise CommandError(f"No case called {', '.join(map(repr, missing))} in {project.slug}.", returncode=2)
        export = side.side_export(project=project, cases=cases, base_url=options["base_url"])
        if options["output"]:
            Path(options["output"]).write_bytes(export.content())
        else:
            sys.stdout.buffer.write(export.content())
        for warning in export.warnings:
            self.stderr.write(f"warning: {warning}")
