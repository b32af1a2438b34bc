"""Every write to the catalog, with its rules. The API and the admin both come through here.

Access (who may call what) is checked by the callers with `project_role_require`; the services
themselves check the data: uniqueness, step vocabulary, cross-project references.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jbtestsuite.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests_catalog import step_actions
from tests_catalog.browser_targets import browser_target_error
from tests_catalog.models import (
    CaseVersion,
    Environment,
    EnvironmentVariable,
    Membership,
    Project,
    Role,
    SuiteCase,
    Tag,
    TestCase,
    TestStep,
    TestSuite,
    TokenGeneration,
)
from tests_catalog.selectors import projects_visible_to, user_has_role

logger = structlog.get_logger(__name__)

TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length
STEP_FIELDS = (
    "action", "selector_type", "selector", "value", "timeout_ms", "description", "continue_on_failure",
    "targets", "enabled", "options",
)  # fmt: skip
CASE_FIELDS = (
    "name",
    "description",
    "status",
    "priority",
    "category",
    "metadata",
    "expected_duration_seconds",
    "retry_count",
    "is_automated",
)


def project_role_require(*, user, project, role: str, doing: str = "This") -> None:
    """Raise unless the user holds `role` in the project (a Project or its id): the one role check
    of the API, the admin's actions and the services.

    Raises NotFound when the user cannot see the project at all (its existence is not revealed),
    Forbidden when they can see it but their role is too low ("<doing> needs the <role> role...").
    """
    project_id = getattr(project, "pk", project)
    if user_has_role(user, project_id, role):
        return
    if not user_has_role(user, project_id, Role.VIEWER):
        raise NotFound("Project not found.", {"project": ["Project not found."]})
    message = f"{doing} needs the {role} role in this project."
    raise Forbidden(message, {"project": [message]})


def project_for_write(*, user, project_id, role: str) -> Project:
    """The project a new object goes into.

    Raises NotFound unless the user can see it, Forbidden unless they hold `role` there.
    """
    project = projects_visible_to(user).filter(pk=project_id).first()
    if project is None:
        raise NotFound("Project not found.", {"project": ["Project not found."]})
    project_role_require(user=user, project=project, role=role)
    return project


def environment_in_project_check(*, environment: Environment | None, project_id, field: str = "environment") -> None:
    """Raise ValidationFailed (naming `field`) for an environment of another project than `project_id`."""
    if environment is not None and environment.project_id != project_id:
        message = "The environment belongs to another project."
        raise ValidationFailed(message, {field: [message]})


# --- Browser targets -------------------------------------------------------------------------


def base_url_check(base_url: str) -> None:
    """Raise ValidationFailed unless the browser may open this base URL (see browser_targets)."""
    if not base_url:
        return
    problem = browser_target_error(base_url, allowed_hosts=settings.BROWSER_ALLOWED_HOSTS)
    if problem:
        raise ValidationFailed(problem, {"base_url": [problem]})


# --- API tokens -----------------------------------------------------------------------------


def token_generation_of(user) -> int:
    """The generation new tokens of this user carry (0 until their first revocation)."""
    state = TokenGeneration.objects.filter(user_id=user.pk).values_list("generation", flat=True).first()
    return state or 0


def user_tokens_revoke(*, user_id, reason: str) -> None:
    """Make every token the user holds stop working now (logout, new password, deactivation)."""
    state, _ = TokenGeneration.objects.get_or_create(user_id=user_id)
    TokenGeneration.objects.filter(pk=state.pk).update(generation=F("generation") + 1, revoked_at=timezone.now())
    logger.info("user_tokens_revoked", user_id=user_id, reason=reason)


# --- Tags -----------------------------------------------------------------------------------


def tag_names_normalise(names: Iterable[str]) -> list[str]:
    """Strip and lower-case tag names, drop empty ones and duplicates, keep the first order.

    Raises ValidationFailed for a name longer than a tag may be.
    """
    result: list[str] = []
    for raw in names:
        name = str(raw).strip().lower()
        if not name or name in result:
            continue
        if len(name) > TAG_MAX_LENGTH:
            message = f"Tag {name[:20]!r}… is longer than {TAG_MAX_LENGTH} characters."
            raise ValidationFailed(message, {"tags": [message]})
        result.append(name)
    return result


def _tags_get_or_create(names: Sequence[str]) -> list[Tag]:
    names = tag_names_normalise(names)
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    return [existing[name] for name in names]


# --- Projects and members -------------------------------------------------------------------


def _project_slug_check(slug: str, exclude_id=None) -> None:
    taken = Project.objects.filter(slug=slug).exclude(pk=exclude_id).exists()
    if taken:
        message = f"The slug {slug!r} is already used by another project."
        raise Conflict(message, {"slug": [message]})


@transaction.atomic
def project_create(*, creator, name: str, slug: str, description: str = "", base_url: str = "", timezone: str = "UTC"):
    """Create a project with its creator as maintainer.

    Raises Conflict when the slug is taken, ValidationFailed for a base URL the browser may not open.
    """
    _project_slug_check(slug)
    base_url_check(base_url)
    project = Project.objects.create(
        name=name, slug=slug, description=description, base_url=base_url, timezone=timezone
    )
    Membership.objects.create(project=project, user=creator, role=Role.MAINTAINER)
    return project


@transaction.atomic
def project_update(*, project: Project, **fields: Any) -> Project:
    """Change a project's name, slug, description, base_url or timezone. Raises Conflict for a taken slug."""
    allowed = {"name", "slug", "description", "base_url", "timezone"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"project_update does not change {sorted(unknown)}")
    if "slug" in fields and fields["slug"] != project.slug:
        _project_slug_check(fields["slug"], exclude_id=project.pk)
    base_url_check(fields.get("base_url", ""))
    for name, value in fields.items():
        setattr(project, name, value)
    project.save()
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete a project and everything in it (past executions go with it)."""
    project.delete()


def _maintainers_left(project: Project, *, without_user_id) -> bool:
    return Membership.objects.filter(project=project, role=Role.MAINTAINER).exclude(user_id=without_user_id).exists()


@transaction.atomic
def membership_set(*, project: Project, username: str, role: str) -> tuple[Membership, bool]:
    """Give a user a role in the project, adding them if needed; returns (membership, created).

    Raises ValidationFailed for an unknown user or role, Conflict when it would leave the
    project without a maintainer.
    """
    if role not in Role.values:
        message = f"Unknown role {role!r}; use one of {', '.join(Role.values)}."
        raise ValidationFailed(message, {"role": [message]})
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        message = f"No user is called {username!r}."
        raise ValidationFailed(message, {"username": [message]})
    membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
    if membership is None:
        return Membership.objects.create(project=project, user=user, role=role), True
    demoting = membership.role == Role.MAINTAINER and role != Role.MAINTAINER
    if demoting and not _maintainers_left(project, without_user_id=user.pk):
        raise Conflict("A project needs at least one maintainer.", {"role": ["This is the last maintainer."]})
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership, False


@transaction.atomic
def membership_remove(*, project: Project, username: str) -> None:
    """Remove a user from the project. Raises NotFound if not a member, Conflict for the last maintainer."""
    membership = Membership.objects.select_for_update().filter(project=project, user__username=username).first()
    if membership is None:
        raise NotFound(f"{username!r} is not a member of this project.")
    if membership.role == Role.MAINTAINER and not _maintainers_left(project, without_user_id=membership.user_id):
        raise Conflict("A project needs at least one maintainer.", {"username": ["This is the last maintainer."]})
    membership.delete()


# --- Environments ---------------------------------------------------------------------------


def _environment_name_check(project: Project, name: str, exclude_id=None) -> None:
    if Environment.objects.filter(project=project, name=name).exclude(pk=exclude_id).exists():
        message = f"The project already has an environment called {name!r}."
        raise Conflict(message, {"name": [message]})


def _variables_replace(environment: Environment, variables: Sequence[dict]) -> None:
    """Replace the environment's variables. A secret given without a value keeps its old value."""
    old = {variable.name: variable for variable in environment.variables.all()}
    errors: dict[str, dict[str, list[str]]] = {}
    seen: set[str] = set()
    rows: list[EnvironmentVariable] = []
    for index, item in enumerate(variables):
        name = item["name"]
        secret = bool(item.get("secret", False))
        value = item.get("value")
        if not step_actions.VARIABLE_NAME.fullmatch(name):
            errors[str(index)] = {"name": [f"{name!r} is not a variable name: letters, digits and _."]}
            continue
        if name in seen:
            errors[str(index)] = {"name": [f"{name!r} appears twice."]}
            continue
        seen.add(name)
        if value is None:
            previous = old.get(name)
            if secret and previous is not None and previous.secret:
                value = previous.value
            elif secret:
                errors[str(index)] = {"value": ["A new secret variable needs a value."]}
                continue
            else:
                value = ""
        rows.append(EnvironmentVariable(environment=environment, name=name, value=value, secret=secret))
    if errors:
        raise ValidationFailed("Some variables are invalid.", {"variables": errors})
    environment.variables.all().delete()
    EnvironmentVariable.objects.bulk_create(rows)


@transaction.atomic
def environment_create(
    *, project: Project, name: str, base_url: str = "", variables: Sequence[dict] = ()
) -> Environment:
    """Create an environment with its variables.

    Raises Conflict for a taken name, ValidationFailed for bad variables.
    """
    _environment_name_check(project, name)
    base_url_check(base_url)
    environment = Environment.objects.create(project=project, name=name, base_url=base_url)
    _variables_replace(environment, variables)
    return environment


@transaction.atomic
def environment_update(
    *, environment: Environment, name: str | None = None, base_url: str | None = None, variables=None
) -> Environment:
    """Change an environment; `variables`, when given, replaces the whole set (secrets may omit their value)."""
    if name is not None and name != environment.name:
        _environment_name_check(environment.project, name, exclude_id=environment.pk)
        environment.name = name
    if base_url is not None:
        base_url_check(base_url)
        environment.base_url = base_url
    environment.save()
    if variables is not None:
        _variables_replace(environment, variables)
    return environment


@transaction.atomic
def environment_delete(*, environment: Environment) -> None:
    environment.delete()


# --- Test cases and steps -------------------------------------------------------------------


def _case_name_check(*, project_id, category: str, name: str, status: str, exclude_id=None) -> None:
    # Mirrors the conditional unique constraint; the constraint itself only guards races.
    if status == TestCase.Status.ARCHIVED:
        return
    clash = (
        TestCase.objects.filter(project_id=project_id, category=category, name=name)
        .exclude(status=TestCase.Status.ARCHIVED)
        .exclude(pk=exclude_id)
        .exists()
    )
    if clash:
        where = f"category {category!r}" if category else "no category"
        message = f"A case called {name!r} already exists in this project with {where}."
        raise Conflict(message, {"name": [message]})


def _targets_errors(targets) -> list[str]:
    if not isinstance(targets, list):
        return ["Alternate locators are a list of [selector_type, selector] pairs."]
    problems = []
    for position, target in enumerate(targets):
        valid_shape = isinstance(target, list | tuple) and len(target) == 2 and all(isinstance(t, str) for t in target)
        if not valid_shape or not target[1].strip():
            problems.append(f"Alternate {position + 1} is not a [selector_type, selector] pair.")
        elif target[0] not in step_actions.SELECTOR_TYPES:
            problems.append(f"Alternate {position + 1} has the unknown selector type {target[0]!r}.")
    return problems


def steps_errors(steps: Sequence[dict]) -> dict[str, dict[str, list[str]]]:
    """Registry and block errors of each step, keyed by the step's index in the list; empty when all are valid.

    A disabled step only needs a known action: it never runs, and it takes no part in blocks.
    """
    errors: dict[str, dict[str, list[str]]] = {}
    for index, step in enumerate(steps):
        action = step.get("action", "")
        problems = step_actions.step_errors(
            action,
            step.get("selector_type") or step_actions.DEFAULT_SELECTOR_TYPE,
            step.get("selector") or "",
            step.get("value") or "",
        )
        if step.get("enabled") is False:
            problems = {field: messages for field, messages in problems.items() if field == "action"}
        timeout = step.get("timeout_ms")
        if timeout is not None and not 0 < timeout <= TestStep.MAX_TIMEOUT_MS:
            problems.setdefault("timeout_ms", []).append(
                f"A timeout is from 1 to {TestStep.MAX_TIMEOUT_MS} ms, or empty for the default."
            )
        target_problems = _targets_errors(step.get("targets") or [])
        if target_problems:
            problems["targets"] = target_problems
        if problems:
            errors[str(index)] = problems
    _, block_problems = step_actions.blocks_parse(
        [step.get("action") if step.get("enabled", True) is not False else None for step in steps]
    )
    for index, message in block_problems.items():
        errors.setdefault(str(index), {}).setdefault("action", []).append(message)
    return errors


def _run_names(steps: Iterable) -> list[str]:
    """Names of the cases that `run` steps call (enabled steps only; disabled ones never run)."""
    names = []
    for step in steps:
        get = step.get if isinstance(step, dict) else lambda key, default=None, s=step: getattr(s, key, default)
        if get("action") == "run" and get("enabled", True) is not False and "${" not in (get("value") or ""):
            names.append((get("value") or "").strip())
    return names


def run_graph(project_id, *, replacing: dict[str, Sequence] | None = None) -> dict[str, list[str]]:
    """{case name: names it runs} over the project's live cases; `replacing` stands in for some cases' steps."""
    graph: dict[str, list[str]] = {}
    live = TestCase.objects.filter(project_id=project_id).exclude(status=TestCase.Status.ARCHIVED)
    for name in live.values_list("name", flat=True):
        graph.setdefault(name, [])
    run_steps = TestStep.objects.filter(case__in=live, action="run", enabled=True).values_list("case__name", "value")
    for case_name, value in run_steps:
        if replacing is None or case_name not in replacing:
            graph[case_name].append(value.strip())
    for case_name, steps in (replacing or {}).items():
        graph[case_name] = _run_names(steps)
    return graph


def run_cycle(graph: dict[str, list[str]], start: str) -> list[str] | None:
    """The first chain of `run` calls that leads from `start` back to a case already on it, or None."""

    def walk(name: str, path: list[str]) -> list[str] | None:
        for called in graph.get(name, []):
            if called in path:
                return [*path, called]
            found = walk(called, [*path, called])
            if found:
                return found
        return None

    return walk(start, [start])


def run_references_errors(*, project_id, case_name: str, steps: Sequence) -> dict[str, dict[str, list[str]]]:
    """Errors of `run` steps: a case that does not exist in the project, or a call that recurses."""
    graph = run_graph(project_id, replacing={case_name: steps})
    errors: dict[str, dict[str, list[str]]] = {}
    for index, step in enumerate(steps):
        if _run_names([step]) and _run_names([step])[0] not in graph:
            called = _run_names([step])[0]
            errors[str(index)] = {"value": [f"Step {index}: no case called {called!r} in this project to run."]}
    cycle = run_cycle(graph, case_name)
    if cycle:
        first = next(index for index, step in enumerate(steps) if cycle[1] in _run_names([step]))
        message = f"Step {first}: run would recurse: {' → '.join(cycle)}."
        errors.setdefault(str(first), {}).setdefault("value", []).append(message)
    return errors


def _steps_build(case: TestCase, steps: Sequence[dict]) -> list[TestStep]:
    rows = []
    for index, step in enumerate(steps):
        values = {field: step[field] for field in STEP_FIELDS if field in step and step[field] is not None}
        values.setdefault("selector_type", step_actions.DEFAULT_SELECTOR_TYPE)
        values["timeout_ms"] = step.get("timeout_ms")
        rows.append(TestStep(case=case, order_index=index, **values))
    return rows


def _case_lock(case: TestCase) -> None:
    # Version numbers are handed out under the case's row lock: two saves at once get 2 and 3.
    TestCase.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()


def _version_record(*, case: TestCase, specs: list[dict], user, source: str, note: str) -> CaseVersion | None:
    """A new version holding `specs`, unless the latest version already holds exactly them."""
    latest = case.versions.order_by("-number").first()
    if latest is not None and latest.steps == specs:
        return None
    return CaseVersion.objects.create(
        case=case,
        number=(latest.number + 1) if latest else 1,
        steps=specs,
        author=user if user is not None and user.is_authenticated else None,
        source=source,
        note=note[: CaseVersion._meta.get_field("note").max_length],
    )


@transaction.atomic
def test_case_steps_replace(
    *,
    case: TestCase,
    steps: Sequence[dict],
    user=None,
    source: str = CaseVersion.Source.SYSTEM,
    note: str = "",
    check_runs: bool = True,
) -> CaseVersion | None:
    """Replace the case's steps with `steps`, numbered 0, 1, 2… in list order, and record the
    change as a new case version (who, why: `source` such as "admin", "api", "assistant", and a
    free `note`). Returns the new version, or None when the steps are the same as before.

    check_runs=False leaves `run` references to the caller (an import checks them once every
    case of the file exists). Raises ValidationFailed with {"steps": {"<index>": {<field>: [...]}}}.
    """
    errors = steps_errors(steps)
    # Without run steps of its own a case can neither call a missing case nor close a cycle.
    if check_runs and not errors and _run_names(steps):
        errors = run_references_errors(project_id=case.project_id, case_name=case.name, steps=steps)
    if errors:
        first = min(errors, key=int)
        detail = next(iter(errors[first].values()))[0]
        raise ValidationFailed(f"Some steps are invalid (step {first}: {detail})", {"steps": errors})
    _case_lock(case)
    rows = _steps_build(case, steps)
    specs = [row.as_spec() for row in rows]
    current = [step.as_spec() for step in case.steps.order_by("order_index")]
    if specs != current:
        # Rows are replaced wholesale: positions may swap, and the unique order constraint
        # would trip over an in-place renumbering.
        case.steps.all().delete()
        TestStep.objects.bulk_create(rows)
    return _version_record(case=case, specs=specs, user=user, source=source, note=note)


def case_version_for_run(*, case: TestCase, steps: list[dict] | None = None) -> CaseVersion:
    """The version a run of the case is about to execute: the latest one, or a new one when
    the stored steps were changed without the services (fixtures, bulk loaders).

    `steps` are the case's current step specs when the caller already has them.
    """
    if steps is None:
        steps = [step.as_spec() for step in case.steps.order_by("order_index")]
    latest = case.versions.order_by("-number").first()
    if latest is not None and latest.steps == steps:
        return latest
    with transaction.atomic():
        _case_lock(case)
        version = _version_record(
            case=case, specs=steps, user=None, source=CaseVersion.Source.SYSTEM, note="steps found changed at run time"
        )
    return version or case.versions.order_by("-number").first()


@transaction.atomic
def test_case_create(
    *,
    project: Project,
    author,
    name: str,
    tags: Sequence[str] = (),
    steps: Sequence[dict] = (),
    source: str = CaseVersion.Source.SYSTEM,
    note: str = "",
    **fields: Any,
) -> TestCase:
    """Create a case with its tags and ordered steps (its version 1).

    Raises Conflict for a name already used in (project, category) by a non-archived case,
    ValidationFailed for invalid steps or tags.
    """
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise ValueError(f"test_case_create does not take {sorted(unknown)}")
    case = TestCase(project=project, author=author, name=name, **fields)
    _case_name_check(project_id=project.pk, category=case.category, name=name, status=case.status)
    tag_rows = _tags_get_or_create(tags)
    case.save()
    case.tags.set(tag_rows)
    test_case_steps_replace(case=case, steps=steps, user=author, source=source, note=note)
    return case


@transaction.atomic
def test_case_update(
    *,
    case: TestCase,
    tags: Sequence[str] | None = None,
    steps=None,
    user=None,
    source: str = CaseVersion.Source.SYSTEM,
    note: str = "",
    **fields: Any,
) -> TestCase:
    """Change the given fields; `tags` and `steps`, when given, replace the current ones (a
    change of steps is recorded as a new case version by `user`, from `source`).

    Raises Conflict for a clashing name, ValidationFailed for invalid steps or tags.
    """
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise ValueError(f"test_case_update does not take {sorted(unknown)}")
    for name, value in fields.items():
        setattr(case, name, value)
    _case_name_check(
        project_id=case.project_id, category=case.category, name=case.name, status=case.status, exclude_id=case.pk
    )
    case.save()
    if tags is not None:
        case.tags.set(_tags_get_or_create(tags))
    if steps is not None:
        test_case_steps_replace(case=case, steps=steps, user=user, source=source, note=note)
    return case


def _copy_name(case: TestCase) -> str:
    """The first free "<name> (copy)", "<name> (copy 2)"… in the case's project and category."""
    base = f"{case.name} (copy"
    taken = set(
        TestCase.objects.filter(project_id=case.project_id, category=case.category, name__startswith=base)
        .exclude(status=TestCase.Status.ARCHIVED)
        .values_list("name", flat=True)
    )
    number = 1
    while True:
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        candidate = case.name[: 255 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


@transaction.atomic
def test_case_duplicate(*, case: TestCase, author, name: str | None = None) -> TestCase:
    """Copy a case with its tags and steps, as a draft named "<name> (copy)" unless a name is given.

    Raises Conflict when the given name is taken.
    """
    steps = [step.as_spec() for step in case.steps.all()]
    return test_case_create(
        project=case.project,
        author=author,
        name=name or _copy_name(case),
        note=f"copied from {case.name}",
        tags=[tag.name for tag in case.tags.all()],
        steps=steps,
        status=TestCase.Status.DRAFT,
        **{field: getattr(case, field) for field in CASE_FIELDS if field not in ("name", "status")},
    )


@transaction.atomic
def test_case_delete(*, case: TestCase) -> None:
    """Delete a case; past executions keep their snapshot and lose only the link."""
    case.delete()


@transaction.atomic
def test_cases_status_set(*, cases: Iterable[TestCase], status: str) -> tuple[int, list[str]]:
    """Set the status of several cases; returns (changed, messages about the cases left unchanged)."""
    changed, problems = 0, []
    for case in cases:
        try:
            with transaction.atomic():
                test_case_update(case=case, status=status)
            changed += 1
        except Conflict as error:
            problems.append(f"{case.name}: {error.message}")
    return changed, problems


# --- Suites ---------------------------------------------------------------------------------


def _suite_name_check(project: Project, name: str, exclude_id=None) -> None:
    if TestSuite.objects.filter(project=project, name=name).exclude(pk=exclude_id).exists():
        message = f"The project already has a suite called {name!r}."
        raise Conflict(message, {"name": [message]})


@transaction.atomic
def suite_cases_set(*, suite: TestSuite, case_ids: Sequence) -> None:
    """Make `case_ids` the suite's cases, in that order.

    Raises ValidationFailed for a repeated id or a case that is not in the suite's project.
    """
    ids = [str(case_id) for case_id in case_ids]
    repeated = sorted({case_id for case_id in ids if ids.count(case_id) > 1})
    if repeated:
        message = f"A case can appear once in a suite; repeated: {', '.join(repeated)}."
        raise ValidationFailed(message, {"cases": [message]})
    found = {
        str(pk) for pk in TestCase.objects.filter(project_id=suite.project_id, pk__in=ids).values_list("pk", flat=True)
    }
    unknown = [case_id for case_id in ids if case_id not in found]
    if unknown:
        message = f"No such cases in this project: {', '.join(unknown)}."
        raise ValidationFailed(message, {"cases": [message]})
    suite.entries.all().delete()
    SuiteCase.objects.bulk_create(
        [SuiteCase(suite=suite, case_id=case_id, order_index=index) for index, case_id in enumerate(ids)]
    )


@transaction.atomic
def suite_create(
    *, project: Project, name: str, description: str = "", tags: Sequence[str] = (), case_ids: Sequence = ()
) -> TestSuite:
    """Create a suite with its ordered cases. Raises Conflict for a taken name, ValidationFailed for bad cases."""
    _suite_name_check(project, name)
    suite = TestSuite.objects.create(project=project, name=name, description=description)
    suite.tags.set(_tags_get_or_create(tags))
    suite_cases_set(suite=suite, case_ids=case_ids)
    return suite


@transaction.atomic
def suite_update(
    *,
    suite: TestSuite,
    name: str | None = None,
    description: str | None = None,
    tags: Sequence[str] | None = None,
    case_ids: Sequence | None = None,
) -> TestSuite:
    """Change a suite; `tags` and `case_ids`, when given, replace the current ones (so PUT reorders)."""
    if name is not None and name != suite.name:
        _suite_name_check(suite.project, name, exclude_id=suite.pk)
        suite.name = name
    if description is not None:
        suite.description = description
    suite.save()
    if tags is not None:
        suite.tags.set(_tags_get_or_create(tags))
    if case_ids is not None:
        suite_cases_set(suite=suite, case_ids=case_ids)
    return suite


@transaction.atomic
def suite_delete(*, suite: TestSuite) -> None:
    suite.delete()


@transaction.atomic
def step_locator_adopt(*, case: TestCase, order_index: int, locator: str) -> TestStep:
    """Make an alternate locator (type=selector, as a healed step result names it) the step's main one.

    The old main locator becomes the first alternate, so nothing is lost. It goes through
    test_case_update, so the change is recorded like any other edit of the steps.
    Raises NotFound when the case has no such step, ValidationFailed when the locator is not
    one of the step's alternates.
    """
    steps = [step.as_spec() for step in case.steps.order_by("order_index")]
    if not 0 <= order_index < len(steps):
        raise NotFound(f"{case.name!r} has no step {order_index}.")
    step = steps[order_index]
    parsed = step_actions.locator_parse(locator)
    alternates = [list(target) for target in step["targets"]]
    if parsed is None or list(parsed) not in alternates:
        message = f"{locator!r} is not an alternate locator of step {order_index}."
        raise ValidationFailed(message, {"locator": [message]})
    alternates.remove(list(parsed))
    if step["selector"]:
        alternates.insert(0, [step["selector_type"], step["selector"]])
    step.update(selector_type=parsed[0], selector=parsed[1], targets=alternates)
    test_case_update(case=case, steps=steps)
    return case.steps.get(order_index=order_index)
