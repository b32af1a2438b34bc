"""Executions fixtures: a shop page served on 127.0.0.1 and a case that buys from it."""

from pathlib import Path

import pytest

from conftest import case_with_steps

PAGES_DIR = Path(__file__).parent / "pages"


@pytest.fixture(autouse=True)
def _short_step_timeout(settings):
    # Failing waits are part of many tests here; 2 s is plenty for pages served on 127.0.0.1.
    settings.STEP_TIMEOUT_MS = 2000


@pytest.fixture(scope="session")
def shop_url(serve_pages):
    """Test pages served on 127.0.0.1 for executions run by the worker."""
    return f"{serve_pages(PAGES_DIR)}/"


SHOP_STEPS = (
    ("open", "", "shop.html"),
    ("assert_title", "", "Shop"),
    ("type", "#qty", "${quantity}"),
    ("click", "#add", ""),
    ("assert_text", "#cart", "Cart: ${quantity}"),
)


@pytest.fixture
def shop_case(project, shop_url):
    project.base_url = shop_url
    project.save()
    return case_with_steps(project, name="Add to cart", steps=SHOP_STEPS)
