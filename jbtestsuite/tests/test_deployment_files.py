"""docker-compose.yml, .env.example and the README must describe what the settings really read."""

import os
import re
import subprocess
import sys

import yaml

from conftest import BASE_DIR
from jbtestsuite.env import VARIABLES


def _compose():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_it_defines_the_services_with_the_expected_images():
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "selenium", "selenium-hub", "chrome-node", "web", "worker", "beat"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["selenium"]["image"].startswith("selenium/standalone-chromium")
    # The Grid is opt-in (--profile grid), its nodes scale and find the hub's event bus.
    assert services["selenium-hub"]["image"].startswith("selenium/hub")
    assert services["chrome-node"]["image"].startswith("selenium/node-chromium")
    assert services["selenium-hub"]["profiles"] == services["chrome-node"]["profiles"] == ["grid"]
    assert services["chrome-node"]["environment"]["SE_EVENT_BUS_HOST"] == "selenium-hub"
    assert "container_name" not in services["chrome-node"]
    # One port for HTTP and the live WebSocket streams.
    assert "uvicorn jbtestsuite.asgi:application" in services["web"]["command"]
    assert "celery -A jbtestsuite worker" in services["worker"]["command"]
    assert "celery -A jbtestsuite beat" in services["beat"]["command"]


def test_it_passes_only_variables_the_settings_read():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        passed = set(services[name]["environment"])
        assert passed, name
        assert passed <= set(VARIABLES), f"{name} passes unknown variables: {passed - set(VARIABLES)}"
        assert services[name]["environment"]["SELENIUM_HUB_URL"] == "${SELENIUM_HUB_URL:-http://selenium:4444/wd/hub}"


def test_it_documents_every_variable_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.MULTILINE))
    assert set(VARIABLES) - documented == set()
    assert documented - set(VARIABLES) == set()


def test_it_documents_every_variable_in_the_readme():
    readme = (BASE_DIR / "README.md").read_text()
    missing = [name for name in VARIABLES if f"`{name}`" not in readme]
    assert missing == []


def test_it_opens_the_readme_with_the_two_commands():
    readme = (BASE_DIR / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert first_block.strip().splitlines() == ["make run", "make test"]


def test_it_freezes_what_the_wsgi_process_loaded_at_start(tmp_path):
    # The garbage collector then skips settings, models and views on every full collection.
    code = "import gc, jbtestsuite.wsgi; print(gc.get_freeze_count())"
    env = {"PATH": os.environ["PATH"], "DATA_DIR": str(tmp_path), "ENVIRONMENT": "testing"}
    result = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 10_000
