"""The reports' admin pages: the dashboard (the admin's landing page), a case's and a suite's history.

Each page is one selector call plus the admin's own context, so its query count does not grow
with the history behind it (tests assert the counts). Charts are drawn in the browser by the
vendored Chart.js from the JSON embedded in the page; every chart has its numbers in a table
beside it, and every status is written out, so nothing depends on telling colours apart.
"""

from __future__ import annotations

import uuid

from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse

from reports import selectors
from tests_catalog.models import Project, TestCase, TestSuite
from tests_catalog.selectors import project_ids_with_role, projects_visible_to

STATUS_MARKS = {"passed": "✓", "failed": "✗", "error": "!", "cancelled": "\u2013", "running": "▶", "queued": "…"}


def _context(request, **extra) -> dict:
    return {**admin.site.each_context(request), "status_marks": STATUS_MARKS, **extra}


def dashboard(request):
    """A project member's landing page: how each of their projects is doing, one project at a time."""
    projects = list(projects_visible_to(request.user).order_by("name").values("id", "name", "slug"))
    wanted = request.GET.get("project")
    chosen = next((p for p in projects if p["slug"] == wanted), None) or (projects[0] if projects else None)
    data = labels = None
    if chosen is not None:
        project = Project(id=chosen["id"], name=chosen["name"], slug=chosen["slug"])
        data = selectors.dashboard(project=project)
        labels = selectors.labels_count(project)
    charts = None
    if data is not None:
        charts = {
            "days": [row["day"] for row in data["trend"]],
            "pass_rate": [
                None if row["pass_rate"] is None else round(row["pass_rate"] * 100, 1) for row in data["trend"]
            ],
            "runs": [row["runs"] for row in data["trend"]],
            "mean_duration_s": [
                None if row["mean_duration_ms"] is None else round(row["mean_duration_ms"] / 1000, 2)
                for row in data["trend"]
            ],
        }  # fmt: skip
    context = _context(
        request,
        title="Dashboard",
        projects=projects,
        project=chosen,
        data=data,
        labels=labels,
        charts=charts,
        app_list=admin.site.get_app_list(request),
    )
    return TemplateResponse(request, "reports/dashboard.html", context)


def _visible(model, user, pk):
    try:
        key = uuid.UUID(str(pk))
    except ValueError:
        raise Http404 from None
    found = model.objects.filter(pk=key, project_id__in=project_ids_with_role(user)).select_related("project").first()
    if found is None:
        raise Http404
    return found


def case_report(request, case_id):
    case = _visible(TestCase, request.user, case_id)
    environment_id = request.GET.get("environment") or None
    try:
        environment_id = uuid.UUID(environment_id) if environment_id else None
    except ValueError:
        raise Http404 from None
    report = selectors.case_report(case=case, environment_id=environment_id)
    charts = {
        "days": [row["day"].isoformat() for row in report["durations_by_day"]],
        "p50_s": [round(row["p50_ms"] / 1000, 2) for row in report["durations_by_day"]],
        "p95_s": [round(row["p95_ms"] / 1000, 2) for row in report["durations_by_day"]],
    }
    context = _context(request, title=f"History of {case.name}", case=case, report=report, charts=charts)
    return TemplateResponse(request, "reports/case.html", context)


def suite_report(request, suite_id):
    suite = _visible(TestSuite, request.user, suite_id)
    report = selectors.suite_report(suite=suite)
    runs = list(reversed(report["runs"]))
    charts = {
        "labels": [run["finished_at"].strftime("%m-%d %H:%M") for run in runs],
        "passed": [run["passed"] for run in runs],
        "failed": [run["failed"] for run in runs],
        "errored": [run["errored"] for run in runs],
        "duration_s": [round(run["duration_ms"] / 1000, 1) for run in runs],
    }
    context = _context(request, title=f"History of suite {suite.name}", suite=suite, report=report, charts=charts)
    return TemplateResponse(request, "reports/suite.html", context)
