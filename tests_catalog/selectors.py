"""Who may see and change what. Every app's API and admin go through these reads."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from executions.models import Execution
from tests_catalog.models import (
    ROLE_RANK,
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
