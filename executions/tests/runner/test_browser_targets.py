"""The runner refuses forbidden targets after substitution, whatever the saved step said."""

import pytest

from executions.tests.runner.steps import step

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("target", ["file:///etc/passwd", "http://169.254.169.254/latest/meta-data/"])
def test_it_refuses_a_forbidden_url_that_a_variable_supplied(run, browser, target):
    result = run(step("open", value="${where}"), variables={"where": target})
    outcome = result.step_outcomes[0]
    assert outcome.status == "error"
    # Refused by the registry's re-check of the substituted value, before the browser is touched.
    assert "not allowed for the browser" in outcome.message or "may not open" in outcome.message
    assert not browser.driver.current_url.startswith("file:")
    assert "root:" not in browser.driver.page_source


def test_it_opens_only_listed_hosts_when_a_list_is_given(run, pages_url):
    allowed = run(step("open", value="form.html"), allowed_hosts=["127.0.0.1"])
    assert allowed.status == "passed", allowed.error_message
    refused = run(step("open", value="form.html"), allowed_hosts=["staging.example.com"])
    assert refused.step_outcomes[0].status == "error"
    assert "BROWSER_ALLOWED_HOSTS" in refused.step_outcomes[0].message
