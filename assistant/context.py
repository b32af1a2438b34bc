"""What the assistant reads from the apps below it, through their models and services.

Secret values are read here, at the moment a job needs them, and only ever used to run steps
and to mask text; they are never stored, logged or sent.
"""

from __future__ import annotations

from assistant.models import AssistantSettings
from tests_catalog.models import Environment, EnvironmentVariable, Project, TestCase


def environment_values(environment: Environment | None) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """(name → value for running steps, the secret values, secret value → its name)."""
    values: dict[str, str] = {}
    secrets: list[str] = []
    secret_names: dict[str, str] = {}
    if environment is not None:
        for variable in EnvironmentVariable.objects.filter(environment=environment):
            values[variable.name] = variable.value
            if variable.secret and variable.value:
                secrets.append(variable.value)
                secret_names[variable.value] = variable.name
    return values, secrets, secret_names


def base_url(project: Project, environment: Environment | None) -> str:
    return (environment.base_url if environment is not None and environment.base_url else "") or project.base_url


def project_settings(project_id) -> AssistantSettings:
    found = AssistantSettings.objects.filter(project_id=project_id).first()
    return found or AssistantSettings(project_id=project_id)


def screenshots_withheld(project_id) -> bool:
    return project_settings(project_id).withhold_screenshots


def case_name_free(project_id, name: str) -> str:
    """`name`, or `name (2)`, `name (3)`… so a generated draft never clashes with a case."""
    name = name[:240]
    taken = set(
        TestCase.objects.filter(project_id=project_id, category="", name__startswith=name)
        .exclude(status=TestCase.Status.ARCHIVED)
        .values_list("name", flat=True)
    )
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name} ({number})"
    return candidate
