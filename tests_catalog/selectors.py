"""Who may see and change what. Every app's API and admin go through these reads."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from executions.models import Execution
from tests_catalog.models import (
    ROLE_RANK,
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
)


def projects_visible_to(user) -> QuerySet[Project]:
    """Projects the user is a member of; superusers see every project."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def project_ids_with_role(user, role: str = Role.VIEWER) -> QuerySet:
    """Ids of the projects where the user holds `role` or a higher one (a subquery, not a list)."""
    if user.is_superuser:
        return Project.objects.values("id")
    roles = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[role]]
    return Membership.objects.filter(user=user, role__in=roles).values("project_id")


def user_has_role(user, project_id, role: str) -> bool:
    """True when the user holds `role` (or a higher one) in the project, or is a superuser."""
    if user.is_superuser:
        return True
    roles = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[role]]
    return Membership.objects.filter(user=user, project_id=project_id, role__in=roles).exists()


def role_of(user, project_id) -> str | None:
    """The user's role in the project; superusers who are not members count as maintainers."""
    role = Membership.objects.filter(user=user, project_id=project_id).values_list("role", flat=True).first()
    if role is None and user.is_superuser:
        return Role.MAINTAINER
    return role


def test_cases_visible_to(user) -> QuerySet[TestCase]:
    """Cases the user may read, with what a list shows, in a constant number of queries.

    Counts are correlated subqueries rather than `Count()` over joins: two joined counts would
    multiply each other, and the subqueries keep the row count equal to the case count.
    """
    step_count = (
        TestStep.objects.filter(case=OuterRef("pk")).order_by().values("case").annotate(n=Count("pk")).values("n")
    )
    execution_count = (
        Execution.objects.filter(test_case=OuterRef("pk"))
        .order_by()
        .values("test_case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_status = Execution.objects.filter(test_case=OuterRef("pk")).order_by("-queued_at").values("status")[:1]
    return (
        TestCase.objects.filter(project_id__in=project_ids_with_role(user, Role.VIEWER))
        .select_related("author")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .annotate(
            step_count=Coalesce(Subquery(step_count, output_field=IntegerField()), 0),
            execution_count=Coalesce(Subquery(execution_count, output_field=IntegerField()), 0),
            last_execution_status=Subquery(last_status),
        )
    )


def tag_names_by_case(case_ids) -> dict:
    """{case id: its tag names in name order} for a page of cases, in one query."""
    names: dict = {}
    if not case_ids:
        return names
    pairs = (
        TestCase.tags.through.objects.filter(testcase_id__in=case_ids)
        .order_by("tag__name")
        .values_list("testcase_id", "tag__name")
    )
    for case_id, name in pairs:
        names.setdefault(case_id, []).append(name)
    return names


def environments_visible_to(user) -> QuerySet[Environment]:
    return Environment.objects.filter(project_id__in=project_ids_with_role(user, Role.VIEWER)).prefetch_related(
        Prefetch("variables", queryset=EnvironmentVariable.objects.order_by("name"))
    )


def suites_visible_to(user) -> QuerySet[TestSuite]:
    return TestSuite.objects.filter(project_id__in=project_ids_with_role(user, Role.VIEWER)).prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch("entries", queryset=SuiteCase.objects.order_by("order_index")),
    )


def memberships_of(project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by("user__username")


# --- Case versions --------------------------------------------------------------------------


def case_versions_of(case) -> QuerySet[CaseVersion]:
    """The case's versions, newest first, with their authors."""
    return CaseVersion.objects.filter(case=case).select_related("author").order_by("-number")


# What identifies a step's content; its position is compared separately.
_STEP_CONTENT = ("action", "selector_type", "selector", "value", "timeout_ms", "description", "continue_on_failure")


def _step_key(step: dict) -> tuple:
    return tuple(step.get(name) for name in _STEP_CONTENT)


def _step_target(step: dict) -> tuple:
    return step.get("action"), step.get("selector_type"), step.get("selector")


def step_label(step: dict) -> str:
    """A step as one readable line: `click css #login`, `type css #user = "demo"`."""
    parts = [step.get("action", "")]
    if step.get("selector"):
        parts.append(f"{step.get('selector_type') or 'css'} {step['selector']}")
    if step.get("value"):
        parts.append(f"= {step['value']!r}")
    return " ".join(parts)


@dataclass
class StepChange:
    """One line of a version diff. Positions are 1-based, as people count steps."""

    kind: str  # same, added, removed, changed, moved
    old_position: int | None
    new_position: int | None
    step: dict
    fields: dict[str, tuple] = field(default_factory=dict)  # changed field -> (old, new)

    @property
    def label(self) -> str:
        return step_label(self.step)

    @property
    def moved(self) -> bool:
        return self.kind == "moved" or (
            self.kind == "changed" and self.old_position is not None and self.old_position != self.new_position
        )

    def describe(self) -> str:
        if self.kind == "added":
            return f"step {self.new_position} added: {self.label}"
        if self.kind == "removed":
            return f"step {self.old_position} removed: {self.label}"
        if self.kind == "moved":
            return f"step {self.old_position} moved to {self.new_position}: {self.label}"
        if self.kind == "changed":
            what = ", ".join(f"{name} {old!r} → {new!r}" for name, (old, new) in self.fields.items())
            if self.moved:
                return f"step {self.old_position} moved to {self.new_position} and changed: {what}"
            return f"step {self.new_position} changed: {what}"
        return f"step {self.new_position}: {self.label}"


@dataclass
class VersionDiff:
    old_number: int | None
    new_number: int
    changes: list[StepChange]

    @property
    def differences(self) -> list[StepChange]:
        return [change for change in self.changes if change.kind != "same"]

    def summary(self) -> str:
        """E.g. "1 changed, 2 moved"; "no step changed" when the steps are equal."""
        counts: dict[str, int] = {}
        for change in self.differences:
            counts[change.kind] = counts.get(change.kind, 0) + 1
            if change.kind == "changed" and change.moved:
                counts["moved"] = counts.get("moved", 0) + 1
        if not counts:
            return "no step changed"
        order = ("changed", "added", "removed", "moved")
        return ", ".join(f"{counts[kind]} {kind}" for kind in order if kind in counts)


def steps_diff(old: list[dict], new: list[dict], *, old_number=None, new_number=0) -> VersionDiff:
    """A readable diff of two step lists: steps kept, added, removed, moved, or changed in place
    (same position, some fields different), each with its positions."""
    matcher = difflib.SequenceMatcher(a=[_step_key(s) for s in old], b=[_step_key(s) for s in new], autojunk=False)
    changes: list[StepChange] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            changes += [StepChange("same", a0 + k + 1, b0 + k + 1, new[b0 + k]) for k in range(b1 - b0)]
            continue
        paired = min(a1 - a0, b1 - b0) if tag == "replace" else 0
        for k in range(paired):
            before, after = old[a0 + k], new[b0 + k]
            fields = {n: (before.get(n), after.get(n)) for n in _STEP_CONTENT if before.get(n) != after.get(n)}
            changes.append(StepChange("changed", a0 + k + 1, b0 + k + 1, after, fields))
        changes += [StepChange("removed", a0 + k + 1, None, old[a0 + k]) for k in range(paired, a1 - a0)]
        changes += [StepChange("added", None, b0 + k + 1, new[b0 + k]) for k in range(paired, b1 - b0)]
    # A step removed in one place and added, identical, in another was moved.
    removed = [c for c in changes if c.kind == "removed"]
    for added in [c for c in changes if c.kind == "added"]:
        twin = next((r for r in removed if _step_key(r.step) == _step_key(added.step)), None)
        if twin is not None:
            removed.remove(twin)
            changes.remove(twin)
            added.kind, added.old_position = "moved", twin.old_position
    # One removed elsewhere that does the same thing on the same element was moved and edited.
    for added in [c for c in changes if c.kind == "added"]:
        twin = next((r for r in removed if _step_target(r.step) == _step_target(added.step)), None)
        if twin is not None:
            removed.remove(twin)
            changes.remove(twin)
            fields = {n: (twin.step.get(n), added.step.get(n)) for n in _STEP_CONTENT
                      if twin.step.get(n) != added.step.get(n)}  # fmt: skip
            added.kind, added.old_position, added.fields = "changed", twin.old_position, fields
    changes.sort(key=lambda c: (c.new_position or c.old_position or 0, c.kind != "removed"))
    return VersionDiff(old_number, new_number, changes)


def case_version_diff(old: CaseVersion | None, new: CaseVersion) -> VersionDiff:
    """What changed from `old` to `new` (from nothing when `old` is None)."""
    return steps_diff(old.steps if old else [], new.steps, old_number=old.number if old else None,
                      new_number=new.number)  # fmt: skip
