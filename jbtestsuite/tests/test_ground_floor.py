"""The settings package is the ground floor: it imports no app of ours, so every app can import it."""

import ast

from conftest import BASE_DIR

JBTESTSUITE = BASE_DIR / "jbtestsuite"


def our_apps() -> set[str]:
    return {path.parent.name for path in BASE_DIR.glob("*/apps.py") if path.parent.name != "jbtestsuite"}


def imported_modules(path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            # `from tests_catalog import services` reads as the module `tests_catalog`; good enough.
    return modules


def test_it_knows_our_apps():
    assert {"tests_catalog", "executions", "notifications", "artifacts", "demo"} <= our_apps()


def test_it_imports_no_app_from_the_settings_package():
    apps = our_apps()
    offenders = sorted(
        f"{path.relative_to(BASE_DIR)}: {module}"
        for path in JBTESTSUITE.rglob("*.py")
        if "tests" not in path.relative_to(JBTESTSUITE).parts
        for module in imported_modules(path)
        if module.split(".")[0] in apps
    )
    assert offenders == []


def test_it_sees_an_app_import_wherever_it_is_written(tmp_path):
    module = tmp_path / "planted.py"
    module.write_text(
        "import os\n\ndef f():\n    from tests_catalog.models import Project\n    import executions.worker\n"
    )
    assert {"tests_catalog.models", "executions.worker"} <= imported_modules(module)
