"""Fill an empty database with a large catalog for benchmarks: bulk inserts, deterministic data.

    manage.py seed_benchmark_data --cases 100000

One project ("bench"), one maintainer ("bench", password "bench-password"), cases with steps and
tags, and executions of some of them. Refuses to run twice into the same database.
"""

from __future__ import annotations

import contextlib
import datetime
import random
import time
import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from executions.models import Execution, RunStatus, Trigger
from tests_catalog.models import Membership, Project, Role, Tag, TestCase, TestStep

BENCH_PROJECT_SLUG = "bench"
BENCH_USERNAME = "bench"
BENCH_PASSWORD = "bench-password"  # noqa: S105 - a benchmark database's throwaway login
BATCH = 5_000
CATEGORIES = ["checkout", "login", "search", "profile", "admin", "reports", "billing", "onboarding"]
STEP_TEMPLATES = [
    ("open", "css", "", "/"),
    ("type", "css", "#email", "user@example.com"),
    ("click", "css", "button[type=submit]", ""),
    ("assert_text", "css", "#message", "Welcome"),
    ("assert_title", "css", "", "Dashboard"),
]


@contextlib.contextmanager
def _timestamps_kept(*fields):
    """Let bulk_create store the timestamps we set instead of "now" (auto_now_add overrides them)."""
    saved = [(field, field.auto_now_add, field.auto_now) for field in fields]
    for field, _, _ in saved:
        field.auto_now_add = field.auto_now = False
    try:
        yield
    finally:
        for field, auto_now_add, auto_now in saved:
            field.auto_now_add, field.auto_now = auto_now_add, auto_now


class Command(BaseCommand):
    help = "Seed a benchmark catalog: N cases with steps and tags, and executions (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--steps-per-case", type=int, default=5)
        parser.add_argument("--tags", type=int, default=40, help="distinct tags; each case gets 0 to 3")
        parser.add_argument("--executions", type=int, default=50_000, help="spread over the first cases")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        if Project.objects.filter(slug=BENCH_PROJECT_SLUG).exists():
            raise CommandError("This database already holds benchmark data; seed a fresh database.")
        rng = random.Random(options["seed"])  # noqa: S311 - repeatable data, not secrets
        started = time.monotonic()
        counts = {}
        with transaction.atomic():
            project, user = self._owner()
            tags = Tag.objects.bulk_create(
                [Tag(name=f"bench-tag-{index:02d}") for index in range(options["tags"])], batch_size=BATCH
            )
            case_ids = self._cases(project, user, options["cases"], rng)
            counts["cases"] = len(case_ids)
            counts["steps"] = self._steps(case_ids, options["steps_per_case"])
            counts["case_tags"] = self._tags(case_ids, tags, rng)
            counts["executions"] = self._executions(project, case_ids, options["executions"], rng)
        counts["seconds"] = round(time.monotonic() - started, 1)
        self.stdout.write(" ".join(f"{name}={value}" for name, value in counts.items()))

    def _owner(self):
        project = Project.objects.create(name="Benchmark", slug=BENCH_PROJECT_SLUG, base_url="http://127.0.0.1:9/")
        user = get_user_model().objects.create_user(BENCH_USERNAME, password=BENCH_PASSWORD)
        Membership.objects.create(project=project, user=user, role=Role.MAINTAINER)
        return project, user

    def _cases(self, project, user, count, rng) -> list[uuid.UUID]:
        now = timezone.now()
        statuses = [TestCase.Status.ACTIVE] * 6 + [TestCase.Status.DRAFT] * 3 + [TestCase.Status.ARCHIVED]
        priorities = list(TestCase.Priority.values)
        ids = []
        created_at = TestCase._meta.get_field("created_at")
        updated_at = TestCase._meta.get_field("updated_at")
        with _timestamps_kept(created_at, updated_at):
            for start in range(0, count, BATCH):
                batch = []
                for index in range(start, min(start + BATCH, count)):
                    # Distinct, realistic creation times: about one case every five minutes.
                    stamp = now - datetime.timedelta(minutes=5 * (count - index), seconds=rng.randrange(300))
                    case = TestCase(
                        project=project,
                        name=f"Case {index:06d} {rng.choice(CATEGORIES)} flow",
                        description=f"Benchmark case number {index}.",
                        status=rng.choice(statuses),
                        priority=rng.choice(priorities),
                        category=CATEGORIES[index % len(CATEGORIES)],
                        author=user,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                    batch.append(case)
                    ids.append(case.id)
                TestCase.objects.bulk_create(batch)
        return ids

    def _steps(self, case_ids, per_case) -> int:
        total, batch = 0, []
        for case_id in case_ids:
            for order_index in range(per_case):
                action, selector_type, selector, value = STEP_TEMPLATES[order_index % len(STEP_TEMPLATES)]
                batch.append(TestStep(case_id=case_id, order_index=order_index, action=action,
                                      selector_type=selector_type, selector=selector, value=value))  # fmt: skip
            if len(batch) >= BATCH:
                TestStep.objects.bulk_create(batch)
                total, batch = total + len(batch), []
        TestStep.objects.bulk_create(batch)
        return total + len(batch)

    def _tags(self, case_ids, tags, rng) -> int:
        through = TestCase.tags.through
        total, batch = 0, []
        for case_id in case_ids:
            for tag in rng.sample(tags, rng.randrange(4)) if tags else []:
                batch.append(through(testcase_id=case_id, tag_id=tag.id))
            if len(batch) >= BATCH:
                through.objects.bulk_create(batch)
                total, batch = total + len(batch), []
        through.objects.bulk_create(batch)
        return total + len(batch)

    def _executions(self, project, case_ids, count, rng) -> int:
        if not case_ids:
            return 0
        now = timezone.now()
        outcomes = [RunStatus.PASSED] * 8 + [RunStatus.FAILED, RunStatus.ERROR]
        queued_at = Execution._meta.get_field("queued_at")
        total = 0
        with _timestamps_kept(queued_at):
            for start in range(0, count, BATCH):
                batch = []
                for index in range(start, min(start + BATCH, count)):
                    # A fifth of the cases ran, several times each.
                    case_id = case_ids[rng.randrange(max(1, len(case_ids) // 5))]
                    stamp = now - datetime.timedelta(minutes=2 * (count - index))
                    batch.append(Execution(
                        project=project, test_case_id=case_id, case_name=f"Case for {case_id}",
                        trigger=Trigger.API, status=rng.choice(outcomes), queued_at=stamp, enqueued_at=stamp,
                        started_at=stamp, finished_at=stamp + datetime.timedelta(seconds=3), duration_ms=3000,
                        worker_host="bench", browser_name="chrome", snapshot={"steps": [], "variables": {}},
                    ))  # fmt: skip
                Execution.objects.bulk_create(batch)
                total += len(batch)
        return total
