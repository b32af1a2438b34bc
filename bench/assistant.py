"""AI assistant: 20 generation tasks against the demo site, with a scripted model whose answers
carry the mistakes real models make (a wrong or brittle selector, a missing wait, an assertion
on the wrong element, an action that does not exist, broken JSON, a fixed pause, a positional
XPath, a loop, giving up), driven through the real openai client and real Chromium.

Figures: share of tasks ending in a green draft, model calls and tokens per task, wall time per
task split into browser and model time (the scripted model answers at once unless
BENCH_MODEL_LATENCY_MS is set, so "model" is what the client and the HTTP round trip cost).
"""

from __future__ import annotations

import os
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bench import common, runtime

DATABASE = os.environ.get("BENCH_ASSISTANT_DB", "jbts_bench_assistant")
LATENCY_S = int(os.environ.get("BENCH_MODEL_LATENCY_MS", "0")) / 1000
# Short enough that a step which does not wait for the demo's late content (1.2-1.5 s) fails.
STEP_TIMEOUT_MS = 1000


def s(action, selector="", value="", selector_type="css", timeout_ms=None):
    return {"action": action, "selector_type": selector_type, "selector": selector, "value": value,
            "description": action, **({"timeout_ms": timeout_ms} if timeout_ms else {})}  # fmt: skip


def a(*steps, done=True, give_up=""):
    return {"thought": "", "steps": list(steps), "done": done, "give_up": give_up}


LOGIN = [s("type", "username", "${username}", "id"), s("type", "password", "${password}", "id"),
         s("click", '[data-test="login-submit"]')]  # fmt: skip
WELCOME = s("assert_text", "welcome-message", "Welcome, demo", "id")
TODO_ADD = [s("type", "todo-input", "buy milk", "id"), s("click", "todo-add", "", "id")]

# (name, start path, description, scripted answers in the order the loop asks for them)
TASKS = [
    ("login", "login/", "log in as the demo user and check the welcome text", [a(*LOGIN, WELCOME)]),
    ("login, wrong selector", "login/", "log in and check the welcome text",
     [a(s("type", "#user", "${username}"), *LOGIN[1:], WELCOME), a(*LOGIN, WELCOME)]),
    ("login, brittle class selector", "login/", "log in and check the welcome text",
     [a(*LOGIN[:2], s("click", "button.btn-primary"), WELCOME), a(LOGIN[2], WELCOME)]),
    ("login, assertion on the wrong element", "login/", "log in and check the welcome text",
     [a(*LOGIN, s("assert_text", "page-title", "Welcome, demo", "id")), a(WELCOME)]),
    ("login, wrong password shows an error", "login/", "log in with a wrong password and see the error",
     [a(s("type", "username", "demo", "id"), s("type", "password", "nope", "id"), LOGIN[2],
        s("assert_text", "login-error", "Invalid username or password.", "id"))]),
    ("login, positional XPath refused", "login/", "log in and check the welcome text",
     [a(*LOGIN[:2], s("click", "/html/body/main/form/div/button", "", "xpath"), WELCOME), a(*LOGIN, WELCOME)]),
    ("login then log out", "login/", "log in, log out, and be back on the login page",
     [a(*LOGIN, WELCOME, done=False),
      a(s("click", "logout-link", "", "id"), s("assert_url", value="contains:/login"))]),
    ("todo, add an item", "todo/", "add 'buy milk' to the to-do list and check the count",
     [a(*TODO_ADD, s("assert_text", "todo-count", "1 item left", "id"))]),
    ("todo, unknown action repaired", "todo/", "add 'buy milk' and check it is listed",
     [a(s("fill", "todo-input", "buy milk", "id")), a(*TODO_ADD, s("assert_text", '[data-test="todo-text"]',
                                                                   "buy milk"))]),
    ("todo, complete an item", "todo/", "add an item, tick it, and check nothing is left",
     [a(*TODO_ADD, done=False), a(s("check", '[data-test="todo-toggle"]'),
                                  s("assert_text", "todo-count", "0 items left", "id"))]),
    ("todo, invalid JSON once", "todo/", "add 'buy milk' and check the count",
     ['{"steps": [', a(*TODO_ADD, s("assert_text", "todo-count", "1 item left", "id"))]),
    ("delayed, missing wait", "delayed/", "wait for the late content and check it",
     [a(s("assert_text", "late-content", "This text arrived late.", "id")),
      a(s("wait_for_visible", "late-content", "", "id", timeout_ms=5000),
        s("assert_text", "late-content", "This text arrived late.", "id"))]),
    ("delayed, compute the answer", "delayed/", "compute the answer and check it is 42",
     [a(s("click", "load-result", "", "id"), s("assert_text", "delayed-result", "The answer is 42.", "id")),
      a(s("wait_for_text", "delayed-result", "42", "id", timeout_ms=5000),
        s("assert_text", "delayed-result", "The answer is 42.", "id"))]),
    ("delayed, fixed pause refused", "delayed/", "wait for the late content and check it",
     [a(s("pause", value="2000"), s("assert_text", "late-content", "This text arrived late.", "id")),
      a(s("wait_for_visible", "late-content", "", "id", timeout_ms=5000),
        s("assert_text", "late-content", "contains:arrived late", "id"))]),
    ("select a colour", "select/", "choose Green and check the choice is shown",
     [a(s("select", "color-select", "Green", "id"), s("assert_text", "color-choice", "contains:Green", "id"))]),
    ("dialogs, accept the alert", "dialogs/", "open the alert, accept it, and check the result",
     [a(s("click", "alert-button", "", "id"), s("accept_alert"), s("assert_text", "dialog-result", "Alert closed.",
                                                                    "id"))]),
    ("dialogs, wrong element then confirm", "dialogs/", "confirm the dialog and check the result",
     [a(s("click", "#confirm"), s("accept_alert")), a(s("click", "confirm-button", "", "id"), s("accept_alert"),
                                                      s("assert_text", "dialog-result", "You pressed OK.", "id"))]),
    ("index, navigate to the login form", "./", "open the login form from the demo home",
     [a(s("click", "Login form", "", "link_text"), s("assert_title", value="contains:Log in"))]),
    ("index, the model loops", "./", "open the to-do list from the home page",
     [a(s("click", "#todo-link"), done=False)] * 3),
    ("iframe, the model gives up", "iframe/", "check the text inside the frame says hello in French",
     [a(give_up="The frame's text is not in French; the goal cannot be checked on this page.")]),
]  # fmt: skip


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        return


class _ThreadingWSGIServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        threading.Thread(target=self._handle, args=(request, client_address), daemon=True).start()

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


def demo_serve() -> tuple[str, object]:
    """The whole app (the demo site at /demo/) on 127.0.0.1 from a thread."""
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_ThreadingWSGIServer,
                         handler_class=_Quiet)  # fmt: skip
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-site").start()
    return f"http://127.0.0.1:{server.server_port}/demo/", server


def main() -> None:
    from assistant.tests.fake_openai import Delay, scripted_model_served

    url = runtime.database_prepare(DATABASE)
    with scripted_model_served() as model:
        common.django_setup(
            DATABASE_URL=url, OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=model.url, OPENAI_MODEL="scripted",
            OPENAI_RETRY_BASE_MS="0", STEP_TIMEOUT_MS=str(STEP_TIMEOUT_MS), ASSISTANT_MAX_TURNS="6",
        )  # fmt: skip
        from assistant.generation import generation_run
        from assistant.models import AssistantSettings
        from assistant.services import generation_request
        from executions import worker
        from executions.runner.browser import WorkerBrowser
        from tests_catalog.models import Environment, EnvironmentVariable

        demo_url, server = demo_serve()
        project, user = runtime.project_prepare(demo_url, slug="bench-assistant")
        AssistantSettings.objects.create(project=project, enabled=True, daily_token_budget=10**9)
        environment = Environment.objects.create(project=project, name="demo", base_url=demo_url)
        EnvironmentVariable.objects.create(environment=environment, name="username", value="demo")
        EnvironmentVariable.objects.create(environment=environment, name="password", value="demo-pass-2026",
                                           secret=True)  # fmt: skip
        browsers = WorkerBrowser(worker.browser_config(), reuse=True)
        browsers.acquire()  # the first start is the worker's, not the task's
        details = []
        try:
            for name, start, description, answers in TASKS:
                model.reset()
                model.queue(*[Delay(LATENCY_S, answer) if LATENCY_S else answer for answer in answers])
                model.fallback = a(give_up="(the script ran out)")
                started = time.monotonic()
                job = generation_request(
                    user=user, project_id=project.pk, environment=environment, start_url=start,
                    description=description, variable_names=["username", "password"], case_name=name,
                )  # fmt: skip
                generation_run(job_id=job.pk, browsers=browsers)
                wall_ms = int((time.monotonic() - started) * 1000)
                job.refresh_from_db()
                secret_sent = any(b"demo-pass-2026" in raw for raw in model.requests)
                details.append({
                    "task": name, "status": job.status, "message": job.message[:200], "calls": job.model_calls,
                    "requests": len(model.requests), "tokens": job.total_tokens, "wall_ms": wall_ms,
                    "browser_ms": job.browser_ms, "model_ms": job.model_ms, "steps": len(job.steps),
                    "secret_sent": secret_sent,
                })  # fmt: skip
                print(
                    f"{name:42} {job.status:9} calls={job.model_calls} tokens={job.total_tokens:6} "
                    f"wall={wall_ms:5} ms browser={job.browser_ms:5} model={job.model_ms:4}  {job.message[:70]}"
                )
        finally:
            browsers.close()
            server.shutdown()
    green = [d for d in details if d["status"] == "succeeded"]
    n = len(details)
    rows = [
        common.row("tasks ending in a green draft", round(len(green) / n, 3), f"of {n}"),
        common.row("model calls per task (median)", common.median([d["calls"] for d in details])),
        common.row("model calls per task (mean)", round(sum(d["calls"] for d in details) / n, 2)),
        common.row("tokens per task (median)", common.median([d["tokens"] for d in details])),
        common.row("tokens per task (mean)", round(sum(d["tokens"] for d in details) / n)),
        common.row("wall time per task (median)", common.median([d["wall_ms"] for d in details]), "ms"),
        common.row("  of which browser (median)", common.median([d["browser_ms"] for d in details]), "ms"),
        common.row("  of which model (median)", common.median([d["model_ms"] for d in details]), "ms"),
        common.row("browser share of wall time (all tasks)",
                   round(sum(d["browser_ms"] for d in details) / sum(d["wall_ms"] for d in details), 3)),
        common.row("tasks whose requests carried the secret", sum(d["secret_sent"] for d in details), "", "0",
                   met=not any(d["secret_sent"] for d in details)),
    ]  # fmt: skip
    common.results_write("assistant", rows, {"tasks": details, "model_latency_ms": LATENCY_S * 1000,
                                             "step_timeout_ms": STEP_TIMEOUT_MS})  # fmt: skip


if __name__ == "__main__":
    main()
