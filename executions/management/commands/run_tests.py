"""Run a suite or a case from a CI pipeline; exit 0 when all passed, 1 otherwise, 2 on bad arguments."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from executions import events, services, worker
from executions.junit import junit_xml
from executions.models import FINAL_STATUSES, Execution, RunStatus, Trigger
from jbtestsuite.errors import ApplicationError
from tests_catalog.models import Environment, Project, TestCase, TestSuite

POLL_SECONDS = 0.25


class UsageError(CommandError):
    def __init__(self, message):
        super().__init__(message, returncode=2)


class Command(BaseCommand):
    help = "Run a test suite or case and report like a CI step (exit 0 all passed, 1 failures, 2 bad arguments)."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--suite", help="suite name")
        target.add_argument("--case", help="test case id (UUID)")
        parser.add_argument("--project", help="project slug (needed when a suite name exists in several projects)")
        parser.add_argument("--env", help="environment name within the project")
        parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="variable override")
        parser.add_argument("--junit", metavar="FILE", help="write JUnit XML here")
        parser.add_argument("--inline", action="store_true", help="run in this process, without a worker")
        parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for workers (default 3600)")
        parser.add_argument("--quiet", action="store_true", help="one line per case, not one per step")

    def handle(self, *args, **options):
        self.started = time.monotonic()
        variables = self._variables(options["var"])
        project = self._project(options["project"])
        try:
            if options["suite"]:
                suite = self._suite(options["suite"], project)
                environment = self._environment(options["env"], suite.project)
                suite_run = services.suite_run_start(suite=suite, trigger=Trigger.CLI, environment=environment,
                                                     variables=variables, inline=options["inline"])  # fmt: skip
                title, scope = suite.name, {"suite_run": suite_run}
            else:
                case = self._case(options["case"], project)
                environment = self._environment(options["env"], case.project)
                execution = services.execution_create(case=case, trigger=Trigger.CLI, environment=environment,
                                                      variables=variables, inline=options["inline"])  # fmt: skip
                title, scope = case.name, {"root": execution}
        except ApplicationError as exc:
            raise UsageError(exc.message) from None

        self.stdout.write(f"Running {title}{' inline' if options['inline'] else ''}…")
        if options["inline"]:
            finished = self._follow(scope, inline=True, timeout=options["timeout"])
        else:
            finished = self._follow_events(scope, timeout=options["timeout"], quiet=options["quiet"])
        return self._report(title, finished, options["junit"])

    # --- arguments ------------------------------------------------------------------------

    def _variables(self, pairs):
        variables = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name:
                raise UsageError(f"--var {pair!r}: expected NAME=VALUE")
            variables[name] = value
        return variables

    def _project(self, slug):
        if not slug:
            return None
        try:
            return Project.objects.get(slug=slug)
        except Project.DoesNotExist:
            raise UsageError(f"--project: no project with slug {slug!r}") from None

    def _suite(self, name, project):
        suites = TestSuite.objects.filter(name=name).select_related("project")
        if project:
            suites = suites.filter(project=project)
        found = list(suites[:2])
        if not found:
            raise UsageError(f"--suite: no suite named {name!r}" + (f" in project {project.slug}" if project else ""))
        if len(found) > 1:
            raise UsageError(f"--suite: {name!r} exists in several projects; add --project SLUG")
        return found[0]

    def _case(self, case_id, project):
        try:
            uuid.UUID(case_id)
        except ValueError:
            raise UsageError(f"--case: {case_id!r} is not a test case id (a UUID)") from None
        cases = TestCase.objects.select_related("project").filter(pk=case_id)
        if project:
            cases = cases.filter(project=project)
        case = cases.first()
        if case is None:
            raise UsageError(f"--case: no test case with id {case_id}")
        return case

    def _environment(self, name, project):
        if not name:
            return None
        try:
            return Environment.objects.get(project=project, name=name)
        except Environment.DoesNotExist:
            raise UsageError(f"--env: no environment named {name!r} in project {project.slug}") from None

    # --- running and waiting --------------------------------------------------------------

    def _executions(self, scope):
        if "suite_run" in scope:
            return Execution.objects.filter(suite_run=scope["suite_run"])
        root = scope["root"]
        ids, current = [root.pk], root
        while (current := Execution.objects.filter(previous_attempt=current).first()) is not None:
            ids.append(current.pk)
        return Execution.objects.filter(pk__in=ids)

    def _follow(self, scope, *, inline: bool, timeout: int) -> list[Execution]:
        """Run (inline) or wait for every execution, printing each case as its last attempt ends."""
        reported: set = set()
        deadline = time.monotonic() + timeout
        last_progress = 0.0
        while True:
            executions = list(self._executions(scope).order_by("queued_at"))
            for execution in executions:
                if execution.pk not in reported and execution.status in FINAL_STATUSES:
                    reported.add(execution.pk)
                    self._line(execution)
            pending = [e for e in executions if e.status not in FINAL_STATUSES]
            if not pending:
                return [e for e in executions if not Execution.objects.filter(previous_attempt=e).exists()]
            if inline:
                queued = [e for e in pending if e.status == RunStatus.QUEUED]
                if queued:
                    self._worker().execution_run(execution_id=queued[0].pk)
                    continue
            if time.monotonic() > deadline:
                raise CommandError(f"gave up after {timeout} s with {len(pending)} execution(s) unfinished",
                                   returncode=1)  # fmt: skip
            if time.monotonic() - last_progress > 5:
                done = len(executions) - len(pending)
                running = sum(e.status == RunStatus.RUNNING for e in pending)
                sys.stderr.write(f"  … {done}/{len(executions)} done, {running} running\n")
                last_progress = time.monotonic()
            time.sleep(POLL_SECONDS)

    def _follow_events(self, scope, *, timeout: int, quiet: bool) -> list[Execution]:
        """Wait for the workers, printing each step as it finishes (pushed live: see executions/events.py)."""
        deadline = time.monotonic() + timeout
        names: dict[str, str] = {}
        if "suite_run" in scope:
            streams = [{"suite_run_id": scope["suite_run"].pk}]
        else:
            streams = [{"execution_id": scope["root"].pk}]
        try:
            while streams:
                for message in events.events_follow(**streams.pop(), deadline=deadline):
                    data = message["data"]
                    if message["kind"] in ("execution.queued", "execution.retried"):
                        names[message["execution"]] = data["case_name"]
                    elif message["kind"] == "step.finished" and not quiet:
                        self._step_line(names.get(message["execution"], ""), data)
                    elif message["kind"] == "execution.finished":
                        self._line(Execution.objects.get(pk=message["execution"]))
                        if data["next_attempt"] and "suite_run" not in scope:
                            streams.append({"execution_id": data["next_attempt"]})
        except TimeoutError:
            pending = self._executions(scope).exclude(status__in=FINAL_STATUSES).count()
            raise CommandError(f"gave up after {timeout} s with {pending} execution(s) unfinished",
                               returncode=1) from None  # fmt: skip
        executions = self._executions(scope).order_by("queued_at")
        return [e for e in executions if not Execution.objects.filter(previous_attempt=e).exists()]

    def _step_line(self, case_name: str, step: dict) -> None:
        label = step["description"] or step["action"]
        line = f"  {step['status']:<7} {case_name}: {step['index']}. {label}  {step['duration_ms']} ms"
        if step["status"] != "passed" and step["message"]:
            line += f"\n            {step['message']}"
        self.stdout.write(line)

    def _worker(self) -> worker.Worker:
        if not hasattr(self, "_inline_worker"):
            self._inline_worker = worker.Worker()
        return self._inline_worker

    def _line(self, execution):
        seconds = (execution.duration_ms or 0) / 1000
        attempt = f" (attempt {execution.attempt}/{execution.max_attempts})" if execution.max_attempts > 1 else ""
        line = f"{execution.status.upper():<9} {execution.case_name}{attempt}  {seconds:.1f} s"
        if execution.status != RunStatus.PASSED and execution.error_message:
            line += f"\n          {execution.error_message}"
        self.stdout.write(line)

    def _report(self, title, finished, junit_path):
        if hasattr(self, "_inline_worker"):
            self._inline_worker.close()
        counts = {status: sum(e.status == status for e in finished) for status in FINAL_STATUSES}
        elapsed = time.monotonic() - self.started
        self.stdout.write(
            f"{len(finished)} case(s): {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['error']} error, {counts['cancelled']} cancelled in {elapsed:.1f} s"
        )
        if junit_path:
            Path(junit_path).write_bytes(junit_xml(suite_name=title, executions=finished))
            self.stdout.write(f"JUnit XML written to {junit_path}")
        if counts["passed"] != len(finished):
            sys.exit(1)
