"""Shared set-up of the benchmarks that run executions: a PostgreSQL database of our own, a
project whose base URL is the page server, and cases built from (action, selector, value) triples."""

from __future__ import annotations

import os

from bench import common

RUN_DATABASE = os.environ.get("BENCH_RUN_DB", "jbts_bench_run")


def database_prepare(database: str = RUN_DATABASE) -> str:
    """Create (if missing) and migrate one of our databases; returns its URL."""
    url = common.pg_url(database)
    if not common.pg_database_exists(database):
        common.pg_database_recreate(database)
    common.manage("migrate", "--noinput", env=common.app_env(DATABASE_URL=url))
    return url


def django_on_redis(broker_db: int) -> tuple[str, str]:
    """Our database migrated and an emptied Redis database as the broker, Django set up on both;
    returns (database URL, broker URL) for the workers to use too."""
    database_url = database_prepare()
    broker_url = f"{common.REDIS_BASE_URL}/{broker_db}"
    common.redis_flush(broker_db)
    common.django_setup(DATABASE_URL=database_url, REDIS_URL=broker_url)
    return database_url, broker_url


def project_prepare(base_url: str, slug: str = "bench-run"):
    """A fresh project (previous runs' data of the same slug removed) and an editor user."""
    from django.contrib.auth import get_user_model

    from tests_catalog.models import Membership, Project, Role

    Project.objects.filter(slug=slug).delete()
    project = Project.objects.create(name=slug, slug=slug, base_url=base_url)
    user, _ = get_user_model().objects.get_or_create(username="bench-runner")
    user.set_password("bench-password")
    user.save()
    Membership.objects.create(project=project, user=user, role=Role.EDITOR)
    return project, user


def case_create(project, name: str, steps):
    from tests_catalog.models import TestCase, TestStep

    case = TestCase.objects.create(project=project, name=name, status="active")
    TestStep.objects.bulk_create(
        [TestStep(case=case, order_index=index, action=action, selector=selector, value=value)
         for index, (action, selector, value) in enumerate(steps)]
    )  # fmt: skip
    return case


def greeting_steps(rounds: int) -> list[tuple[str, str, str]]:
    """open, then `rounds` x (type a name, click, assert the greeting): 1 + 3 x rounds steps."""
    steps = [("open", "", "bench.html")]
    for index in range(rounds):
        name = f"user {index}"
        steps += [("type", "#name", name), ("click", "#go", ""), ("assert_text", "#out", f"Hello {name}")]
    return steps


def worker_start(env: dict[str, str], name: str, log_name: str):
    """A Celery worker *process* (prefork, one pool child) in its own session, as in production."""
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "jbtestsuite", "worker", "--pool=prefork", "--concurrency=1",
         "-n", f"{name}@%h", "--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=common.BASE_DIR, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=open(common.RESULTS_DIR / log_name, "wb"),
    )  # fmt: skip


def worker_stop(process) -> None:
    """Stop the worker's whole session: the worker, its pool child, their chromedriver and Chromium."""
    import contextlib
    import os
    import signal
    import subprocess

    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def final_wait(execution_ids, timeout: float = 600) -> None:
    from executions.models import FINAL_STATUSES, Execution

    ids = list(execution_ids)
    common.wait_for(
        lambda: Execution.objects.filter(pk__in=ids, status__in=FINAL_STATUSES).count() == len(ids),
        timeout=timeout, interval=0.05, message=f"{len(ids)} executions to finish",
    )  # fmt: skip
