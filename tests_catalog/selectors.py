"""Who may see and change what. Every app's API and admin go through these reads."""

from __future__ import annotations

from django.db.models import QuerySet

from tests_catalog.models import ROLE_RANK, Membership, Project, Role


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
