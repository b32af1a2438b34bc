"""Reports at scale: 200 000 executions and 1 000 000 step results in PostgreSQL.

Seeds `jbts_bench_reports` with bulk SQL (generate_series, a few minutes): one project of 1 000
cases in 20 suites of 50, 4 000 suite runs over 60 days, 5 steps per execution; most cases
pass, some fail at random, some broke at some point; failures carry messages of 12 causes with
varying numbers. Then `reports_rebuild` computes the reports from those raw rows (timed), and
every dashboard and report page is requested by 4 concurrent clients against gunicorn: p50 and
p95 per page, and its SQL query count. BENCH_REUSE_DB=1 keeps an already seeded database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from bench import common

DATABASE = os.environ.get("BENCH_REPORTS_DB", common.quick("jbts_bench_reports", "jbts_bench_reports_quick"))
CASES = 1000
SUITES = 20
SUITE_RUNS = common.quick(4000, 200)  # x 50 cases = executions
STEPS = 5
CLIENTS = 4
REQUESTS_PER_CLIENT = common.quick(5, 2)
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "5"))
CACHE_REDIS_DB = 7
P95_TARGET_MS = 300
SECRET_KEY = "benchmark-only-secret-key-" + "y" * 40
USERNAME, PASSWORD = "lead", "bench-lead-password-2026"

MESSAGES = [
    "'Element ''#row-' || (random() * 900)::int || ' .add'' not found after ' || (1 + (random() * 9)::int) || '000 ms'",
    "'Expected text ''Total: ' || (random() * 99)::int || ''' but was ''Total: ' || (random() * 99)::int || ''''",
    "'Timed out after ' || (random() * 30)::int || '000 ms waiting for the URL to contain ''/orders/' || (random() * 1e6)::int || ''''",
    "'stale element reference: element is not attached (Session info: chrome=13' || (random() * 9)::int || '.0.' || (random() * 9999)::int || ')'",
    "'Page load timed out after ' || (random() * 60)::int || ' s: https://shop.test/checkout?s=' || md5(random()::text)",
    "'javascript error: Cannot read properties of undefined (reading ''price'') at https://cdn.test/app.js:' || (random() * 900)::int",
    "'Element is not clickable at point (' || (random() * 1300)::int || ', ' || (random() * 700)::int || ')'",
    "'Expected title ''Order ' || (random() * 99999)::int || ' confirmed'' but was ''Error 502'''",
    "'Expected ' || (random() * 9)::int || ' elements matching ''.cart-item'' but found ' || (random() * 9)::int",
    "'HTTP 403 from https://api.test/v1/users/' || gen_random_uuid()",
    "'Unexpected alert ''Session ' || md5(random()::text) || ' expired'''",
    "'Expected value ''' || (random() * 100)::int || ''' in #qty but it was empty'",
]  # fmt: skip


def seed_sql(project_id: str, environment_id: str) -> list[str]:
    """Statements that fill the catalog and the run tables. Case n's profile: n % 20 == 0 flaky
    (30 % failures), n % 20 == 1 broke after day 40, else fails 1 % of the time."""
    messages = " ".join(f"WHEN {i} THEN {m}" for i, m in enumerate(MESSAGES))
    return [
        f"""INSERT INTO tests_catalog_testcase (id, created_at, updated_at, project_id, name, description, status,
                priority, category, metadata, retry_count, is_automated)
            SELECT md5('case' || n)::uuid, now(), now(), '{project_id}', 'Case ' || lpad(n::text, 4, '0'), '', 'active',
                'medium', '', '{{}}', 0, true FROM generate_series(0, {CASES - 1}) n""",
        f"""INSERT INTO tests_catalog_testsuite (id, created_at, updated_at, project_id, name, description)
            SELECT md5('suite' || s)::uuid, now(), now(), '{project_id}', 'Suite ' || lpad(s::text, 2, '0'), ''
            FROM generate_series(0, {SUITES - 1}) s""",
        f"""INSERT INTO tests_catalog_suitecase (suite_id, case_id, order_index)
            SELECT md5('suite' || (n / 50))::uuid, md5('case' || n)::uuid, n % 50 FROM generate_series(0, {CASES - 1}) n""",
        f"""CREATE TEMP TABLE seed_runs AS
            SELECT r, md5('suiterun' || r)::uuid AS id, r % {SUITES} AS suite,
                   now() - interval '60 days' + (r * interval '60 days' / {SUITE_RUNS}) AS started
            FROM generate_series(0, {SUITE_RUNS - 1}) r""",
        f"""INSERT INTO executions_suiterun (id, project_id, suite_id, suite_name, environment_id, trigger, status,
                total, passed, failed, errored, cancelled, created_at, started_at, finished_at)
            SELECT id, '{project_id}', md5('suite' || suite)::uuid, 'Suite ' || lpad(suite::text, 2, '0'),
                '{environment_id}', 'schedule', 'passed', 50, 50, 0, 0, 0, started, started,
                started + interval '5 minutes' FROM seed_runs""",
        """CREATE TEMP TABLE seed_executions AS
            SELECT md5('execution' || r.r || '-' || c)::uuid AS id, r.id AS suite_run_id, r.suite * 50 + c AS n,
                   r.started + c * interval '6 seconds' AS finished,
                   CASE WHEN (r.suite * 50 + c) % 20 = 0 THEN random() < 0.3
                        WHEN (r.suite * 50 + c) % 20 = 1 THEN r.started > now() - interval '20 days'
                        ELSE random() < 0.01 END AS failing,
                   (1000 + random() * 4000 + (r.suite * 50 + c) % 7 * 500)::int AS duration
            FROM seed_runs r CROSS JOIN generate_series(0, 49) c""",
        f"""INSERT INTO executions_execution (id, project_id, test_case_id, case_name, suite_run_id, environment_id,
                trigger, status, attempt, max_attempts, queued_at, enqueued_at, started_at, finished_at, heartbeat_at,
                duration_ms, worker_host, browser_name, browser_version, failing_step_index, error_message,
                cancel_requested, runs_inline, snapshot, variable_overrides)
            SELECT e.id, '{project_id}', md5('case' || e.n)::uuid, 'Case ' || lpad(e.n::text, 4, '0'), e.suite_run_id,
                '{environment_id}', 'schedule', CASE WHEN e.failing THEN 'failed' ELSE 'passed' END, 1, 1,
                e.finished - e.duration * interval '1 ms', e.finished - e.duration * interval '1 ms',
                e.finished - e.duration * interval '1 ms', e.finished, e.finished, e.duration, 'bench', 'chrome', '131',
                CASE WHEN e.failing THEN 3 END, '', false, false,
                jsonb_build_object('steps', jsonb_build_array(
                    jsonb_build_object('action', 'open', 'selector', '', 'value', '/p/' || e.n),
                    jsonb_build_object('action', 'type', 'selector', '#q', 'value', 'x'),
                    jsonb_build_object('action', 'click', 'selector', '#go', 'value', ''),
                    jsonb_build_object('action', 'assert_text', 'selector', '#total', 'value', 'ok'),
                    jsonb_build_object('action', 'screenshot', 'selector', '', 'value', ''))),
                '{{}}'
            FROM seed_executions e""",
        f"""INSERT INTO executions_stepresult (execution_id, order_index, action, selector_type, selector, value,
                description, status, duration_ms, message, created_at)
            SELECT e.id, s, (ARRAY['open','type','click','assert_text','screenshot'])[s + 1], 'css',
                (ARRAY['','#q','#go','#total',''])[s + 1], '', '',
                CASE WHEN e.failing AND s = 3 THEN 'failed' WHEN e.failing AND s > 3 THEN 'skipped' ELSE 'passed' END,
                e.duration / {STEPS},
                CASE WHEN e.failing AND s = 3 THEN (CASE e.n % 12 {messages} END) ELSE '' END,
                e.finished
            FROM seed_executions e CROSS JOIN generate_series(0, {STEPS - 1}) s""",
        """UPDATE executions_suiterun r SET passed = x.passed, failed = x.failed,
                status = CASE WHEN x.failed > 0 THEN 'failed' ELSE 'passed' END
            FROM (SELECT suite_run_id, count(*) FILTER (WHERE NOT failing) AS passed,
                         count(*) FILTER (WHERE failing) AS failed FROM seed_executions GROUP BY suite_run_id) x
            WHERE r.id = x.suite_run_id""",
    ]


def _database_prepare() -> dict:
    env = common.app_env(DATABASE_URL=common.pg_url(DATABASE))
    reuse = os.environ.get("BENCH_REUSE_DB") == "1" and common.pg_database_exists(DATABASE)
    if not reuse:
        common.pg_database_recreate(DATABASE)
    common.manage("migrate", "--noinput", env=env)
    common.django_setup(DATABASE_URL=common.pg_url(DATABASE), SECRET_KEY=SECRET_KEY)
    from django.contrib.auth import get_user_model
    from django.db import connection

    from tests_catalog.models import Environment, Membership, Project

    if reuse:
        return {"seeded": False}
    project = Project.objects.create(name="Scale", slug="scale")
    environment = Environment.objects.create(project=project, name="nightly")
    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD, is_staff=True)
    Membership.objects.create(project=project, user=user, role="viewer")
    started = time.monotonic()
    with connection.cursor() as cursor:
        for statement in seed_sql(str(project.id), str(environment.id)):
            cursor.execute(statement)
    seed_s = time.monotonic() - started
    started = time.monotonic()
    rebuilt = common.manage("reports_rebuild", env=env, timeout=3600).strip()
    rebuild_s = time.monotonic() - started
    common.manage("dbshell", "--", "-c", "VACUUM ANALYZE", env=env)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM executions_execution")
        executions = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM executions_stepresult")
        step_results = cursor.fetchone()[0]
    return {"seeded": True, "seed_s": round(seed_s, 1), "rebuild_s": round(rebuild_s, 1), "rebuild": rebuilt,
            "executions": executions, "step_results": step_results}  # fmt: skip


def _gunicorn_start(port: int) -> subprocess.Popen:
    env = _gunicorn_env()
    # The admin pages need the collected, hashed static files production serves (whitenoise).
    common.manage("collectstatic", "--noinput", env=env)
    return _gunicorn_popen(port, env)


def _gunicorn_env() -> dict:
    return common.app_env(
        ENVIRONMENT="production", SECRET_KEY=SECRET_KEY, ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false", SECURE_HSTS_SECONDS="0", DATABASE_URL=common.pg_url(DATABASE),
        REDIS_URL=f"{common.REDIS_BASE_URL}/{CACHE_REDIS_DB}", RATE_LIMIT_PER_MINUTE="100000000",
        LOG_LEVEL="WARNING", DATA_DIR=str(common.BASE_DIR / "bench" / "results" / "data"),
    )  # fmt: skip


def _gunicorn_popen(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "jbtestsuite.wsgi", "--workers", str(GUNICORN_WORKERS),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"],
        cwd=common.BASE_DIR, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=open(common.RESULTS_DIR / "gunicorn-reports.log", "wb"),
    )  # fmt: skip


def pages() -> dict[str, tuple[str, str]]:
    """Name -> (kind, path): kind "api" sends the JWT, "admin" the session cookie."""
    from reports.models import CaseHealth, FailureGroup
    from tests_catalog.models import Project, TestCase, TestSuite

    project = Project.objects.get(slug="scale")
    flaky = CaseHealth.objects.filter(project=project, flaky=True).order_by("-runs").first()
    case = TestCase.objects.get(pk=flaky.test_case_id) if flaky else TestCase.objects.filter(project=project).first()
    suite = TestSuite.objects.filter(project=project).order_by("name").first()
    group = FailureGroup.objects.filter(project=project).order_by("-failures").first()
    api = "/api/v1/reports"
    return {
        "admin dashboard (landing page)": ("admin", "/admin/"),
        "admin case history": ("admin", f"/admin/reports/case/{case.pk}/"),
        "admin suite history": ("admin", f"/admin/reports/suite/{suite.pk}/"),
        "admin failure group": ("admin", f"/admin/reports/failuregroup/{group.pk}/change/"),
        "admin case labels list": ("admin", "/admin/reports/casehealth/"),
        "api dashboard": ("api", f"{api}/projects/{project.pk}/dashboard/"),
        "api case": ("api", f"{api}/cases/{case.pk}/"),
        "api case runs": ("api", f"{api}/cases/{case.pk}/runs/?limit=100"),
        "api suite": ("api", f"{api}/suites/{suite.pk}/"),
        "api suite runs": ("api", f"{api}/suites/{suite.pk}/runs/?limit=100"),
        "api flaky": ("api", f"{api}/flaky/?project={project.pk}&limit=100"),
        "api labels: new failures": ("api", f"{api}/labels/?project={project.pk}&label=new_failure&limit=100"),
        "api labels: all": ("api", f"{api}/labels/?limit=100"),
        "api failure groups": ("api", f"{api}/failure-groups/?project={project.pk}&limit=100"),
        "api failure group failures": ("api", f"{api}/failure-groups/{group.pk}/failures/?limit=100"),
    }


def query_counts(paths: dict, token: str, user) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    api, admin = Client(HTTP_AUTHORIZATION=f"Bearer {token}"), Client()
    admin.force_login(user)
    counts = {}
    for name, (kind, path) in paths.items():
        with CaptureQueriesContext(connection) as captured:
            response = (api if kind == "api" else admin).get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        counts[name] = len(captured.captured_queries)
    return counts


def main() -> None:
    import http.client
    import threading

    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    preparation = _database_prepare()
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework_simplejwt.tokens import AccessToken

    from conftest import free_port

    user = get_user_model().objects.get(username=USERNAME)
    token = str(AccessToken.for_user(user))
    session = SessionStore()
    session["_auth_user_id"], session["_auth_user_backend"] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    headers = {"api": {"Authorization": f"Bearer {token}"}, "admin": {"Cookie": f"sessionid={session.session_key}"}}
    paths = pages()
    counts = query_counts(paths, token, user)

    port = free_port()
    server = _gunicorn_start(port)

    def request(kind: str, path: str) -> float:
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            connection.request("GET", path, headers=headers[kind])
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
        return (time.perf_counter() - started) * 1000

    def burst(kind: str, path: str, clients: int = CLIENTS) -> list[float]:
        latencies, errors, lock = [], [], threading.Lock()

        def client():
            for _ in range(REQUESTS_PER_CLIENT):
                try:
                    value = request(kind, path)
                except Exception as exc:
                    with lock:
                        errors.append(str(exc))
                    continue
                with lock:
                    latencies.append(value)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError(errors[0])
        return latencies

    latencies = {name: [] for name in paths}
    try:

        def up():
            try:
                return request("api", "/health") is not None
            except OSError:
                return False

        common.wait_for(up, timeout=60, interval=0.2, message="gunicorn")
        for kind, path in paths.values():
            burst(kind, path, clients=GUNICORN_WORKERS)  # warm every worker
        for _ in range(common.PAIRS):
            for name, (kind, path) in paths.items():
                latencies[name] += burst(kind, path)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    rows = []
    if preparation.get("seeded"):
        rows.append(common.row(f"seed ({preparation['executions']:,} executions, {preparation['step_results']:,} "
                               "step results, bulk SQL)", preparation["seed_s"], "s"))  # fmt: skip
        rows.append(common.row("reports_rebuild from the raw rows", preparation["rebuild_s"], "s"))
    details = {"database": DATABASE, "clients": CLIENTS, "gunicorn_workers": GUNICORN_WORKERS,
               "preparation": preparation, "paths": paths, "query_counts": counts, "latencies_ms": {}}  # fmt: skip
    for name in paths:
        values = latencies[name]
        p50, p95 = common.percentile(values, 0.5), common.percentile(values, 0.95)
        details["latencies_ms"][name] = {"p50": round(p50, 1), "p95": round(p95, 1), "n": len(values)}
        rows.append(common.row(f"{name}: p50 / p95, {CLIENTS} clients (queries)",
                               f"{p50:.0f} / {p95:.0f} ms ({counts[name]})", "", f"p95 < {P95_TARGET_MS} ms",
                               p95 < P95_TARGET_MS))  # fmt: skip
    common.results_write("reports_scale", rows, details)


if __name__ == "__main__":
    main()
