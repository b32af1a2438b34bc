"""Cursor (keyset) pages of the test-case list: same envelope, `next_cursor`, every sort order."""

import datetime

import pytest
from django.utils import timezone
from model_bakery import baker

from conftest import api_client_for
from tests_catalog.models import TestCase

pytestmark = pytest.mark.django_db

URL = "/api/v1/tests/"


@pytest.fixture
def cases(project):
    # Equal names and priorities, so the id has to break ties between pages.
    made = [baker.make(TestCase, project=project, name="Same", category=f"c{index}", status="active")
            for index in range(7)]  # fmt: skip
    for index, case in enumerate(made):
        TestCase.objects.filter(pk=case.pk).update(
            priority=["low", "high"][index % 2], created_at=timezone.now() - datetime.timedelta(minutes=index % 3)
        )
    return made


def _walk(api, query):
    """Every page from page 1 by cursors; returns the names of the ids in order and the pages."""
    pages = [api.get(f"{URL}?limit=3&{query}").json()]
    while pages[-1]["next_cursor"]:
        response = api.get(f"{URL}?limit=3&{query}&cursor={pages[-1]['next_cursor']}")
        assert response.status_code == 200, response.json()
        pages.append(response.json())
    return [item["id"] for page in pages for item in page["items"]], pages


@pytest.mark.parametrize("sort", ["", "sort_by=name&order=asc", "sort_by=priority", "sort_by=created_at&order=asc",
                                  "sort_by=status", "sort_by=updated_at"])  # fmt: skip
def test_it_walks_every_case_once_in_the_offset_order(editor, cases, sort):
    api = api_client_for(editor)
    walked, pages = _walk(api, sort)
    by_offset = [item["id"] for item in api.get(f"{URL}?limit=100&{sort}").json()["items"]]
    assert walked == by_offset
    assert len(walked) == 7
    assert [page["page"] for page in pages] == [1, None, None]
    assert all(page["total"] == 7 for page in pages)
    assert pages[-1]["next_cursor"] is None


def test_it_gives_no_cursor_on_the_last_offset_page(editor, cases):
    api = api_client_for(editor)
    assert api.get(f"{URL}?limit=3&page=3").json()["next_cursor"] is None
    assert api.get(f"{URL}?limit=7").json()["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["garbage", "eyJvIjpbXSwidiI6W119", "%00"])
def test_it_rejects_a_cursor_it_did_not_make(editor, cases, cursor):
    response = api_client_for(editor).get(f"{URL}?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()["details"]


def test_it_rejects_a_cursor_made_for_another_sort_order(editor, cases):
    api = api_client_for(editor)
    cursor = api.get(f"{URL}?limit=3&sort_by=name").json()["next_cursor"]
    response = api.get(f"{URL}?limit=3&sort_by=priority&cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()["details"]


def test_it_rejects_page_and_cursor_together(editor, cases):
    api = api_client_for(editor)
    cursor = api.get(f"{URL}?limit=3").json()["next_cursor"]
    assert api.get(f"{URL}?limit=3&page=2&cursor={cursor}").status_code == 400


def test_it_keeps_the_query_count_on_cursor_pages(editor, cases, django_assert_max_num_queries):
    api = api_client_for(editor)
    cursor = api.get(f"{URL}?limit=3").json()["next_cursor"]
    with django_assert_max_num_queries(4):  # user, count, page, tags
        assert api.get(f"{URL}?limit=3&cursor={cursor}").status_code == 200


@pytest.mark.parametrize("sort", ["", "sort_by=priority", "sort_by=name&order=asc"])
def test_it_serves_later_offset_pages_in_the_list_order(editor, cases, sort, django_assert_max_num_queries):
    api = api_client_for(editor)
    everything = [item["id"] for item in api.get(f"{URL}?limit=100&{sort}").json()["items"]]
    for limit in (2, 3):
        with django_assert_max_num_queries(5):  # user, count, the page's ids, its rows, tags
            page = api.get(f"{URL}?limit={limit}&page=2&{sort}").json()
        assert [item["id"] for item in page["items"]] == everything[limit : 2 * limit]
        assert page["items"][0]["step_count"] == 0
