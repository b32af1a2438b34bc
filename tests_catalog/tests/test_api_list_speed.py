"""The fast paths of the case and execution lists give exactly what their serializers give, and
`search=` is served by the trigram indexes, at every sort order and through cursors."""

import datetime

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from model_bakery import baker

from conftest import api_client_for
from executions import services as execution_services
from executions.api import ExecutionSerializer
from executions.models import Execution
from executions.selectors import executions_visible_to
from tests_catalog import selectors
from tests_catalog.api.serializers import TestCaseListSerializer
from tests_catalog.models import Environment, EnvironmentVariable, Tag, TestCase, TestStep

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(project, editor):
    tags = [baker.make(Tag, name=name) for name in ("zeta", "alpha", "mid")]
    cases = []
    for index in range(6):
        case = baker.make(TestCase, project=project, name=f"Checkout flow {index:03d}", description=f"Pays {index}",
                          status="active", priority=["low", "high", "critical"][index % 3], author=editor,
                          category=f"c{index % 2}")  # fmt: skip
        case.tags.set(tags[: index % 4])
        baker.make(TestStep, case=case, order_index=0, action="refresh")
        cases.append(case)
    baker.make(TestCase, project=project, name="Login", description="Signs in with 042 as the code", author=None)
    return cases


def test_it_lists_cases_exactly_as_the_serializer_shows_them(editor, catalog):
    environment = Environment.objects.create(project=catalog[0].project, name="staging", base_url="http://s.test/")
    EnvironmentVariable.objects.create(environment=environment, name="token", value="s3cret", secret=True)
    execution_services.execution_create(case=catalog[0], trigger="api", environment=environment)
    body = api_client_for(editor).get("/api/v1/tests/?limit=100").json()
    expected = TestCaseListSerializer(
        selectors.test_cases_visible_to(editor).order_by("-created_at", "-id"), many=True
    ).data  # fmt: skip
    assert body["items"] == [dict(item) for item in expected]
    assert {tuple(item["tags"]) for item in body["items"]} >= {("alpha", "zeta"), ("alpha", "mid", "zeta"), ()}


def test_it_lists_executions_exactly_as_the_serializer_shows_them(editor, catalog):
    environment = Environment.objects.create(project=catalog[0].project, name="staging", base_url="http://s.test/")
    EnvironmentVariable.objects.create(environment=environment, name="token", value="s3cret", secret=True)
    execution_services.execution_create(case=catalog[0], trigger="api", environment=environment, triggered_by=editor,
                                        variables={"user": "ann"})  # fmt: skip
    execution_services.execution_create(case=catalog[1], trigger="cli")
    Execution.objects.filter(test_case=catalog[1]).update(
        status="failed", started_at=timezone.now(), finished_at=timezone.now(), duration_ms=1234, snapshot={}
    )
    body = api_client_for(editor).get("/api/v1/executions/?limit=100").json()
    expected = ExecutionSerializer(executions_visible_to(editor).order_by("-queued_at", "-id"), many=True).data
    assert body["items"] == [dict(item) for item in expected]
    assert "s3cret" not in str(body)
    assert body["items"][1]["variables"] == {"token": "***", "user": "ann"}


def test_it_finds_search_matches_through_the_trigram_indexes(project):
    with connection.cursor() as cursor:
        # A small table is cheaper to scan: forbid that, to see whether the indexes fit the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        matches = TestCase.objects.filter(Q(name__icontains="042") | Q(description__icontains="pays"))
        sql, params = matches.order_by().values("id").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "testcase_name_trgm" in plan
    assert "testcase_description_trgm" in plan


@pytest.mark.parametrize("sort", ["", "sort_by=name&order=asc", "sort_by=priority", "sort_by=updated_at&order=asc"])
def test_it_pages_search_results_by_cursor_in_the_sort_order(editor, catalog, sort, django_assert_max_num_queries):
    for index, case in enumerate(catalog):
        TestCase.objects.filter(pk=case.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=index % 2))
    api = api_client_for(editor)
    everything = api.get(f"/api/v1/tests/?limit=100&search=flow&{sort}").json()
    assert everything["total"] == 6
    ids, cursor = [], ""
    while True:
        with django_assert_max_num_queries(4):  # user, count, page, tags
            page = api.get(f"/api/v1/tests/?limit=4&search=flow&{sort}{'&cursor=' + cursor if cursor else ''}").json()
        ids += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert ids == [item["id"] for item in everything["items"]]
    assert api.get("/api/v1/tests/?search=042").json()["items"][0]["name"] == "Login"
