"""Catalog endpoints. Objects of projects you are not a member of answer 404; too low a role, 403."""

import json

from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from jbtestsuite.errors import ApplicationError, ValidationFailed
from jbtestsuite.pagination import CursorEnvelopePagination
from tests_catalog import selectors, services
from tests_catalog.api import filters
from tests_catalog.api.scoping import ProjectScopedModelViewSet, documented
from tests_catalog.api.serializers import (
    TEST_CASE_LIST_VALUES,
    DuplicateSerializer,
    EnvironmentSerializer,
    MemberSerializer,
    ProjectSerializer,
    SuiteSerializer,
    TestCaseBulkResultSerializer,
    TestCaseBulkSerializer,
    TestCaseDetailSerializer,
    TestCaseListSerializer,
    TestCaseWriteSerializer,
)
from tests_catalog.models import CaseVersion, Environment, Membership, Project, Role, TestCase, TestStep, TestSuite

MAX_BULK = 100


@documented(
    "test case",
    create="Create a test case with its steps",
    retrieve="A test case with its steps",
    update="Replace a test case (steps, when given, replace all steps)",
)
class TestCaseViewSet(ProjectScopedModelViewSet):
    __test__ = False

    model = TestCase
    object_label = "Test case"
    filterset_class = filters.TestCaseFilter
    pagination_class = CursorEnvelopePagination
    serializer_class = TestCaseDetailSerializer
    list_serializer_class = TestCaseListSerializer
    write_serializer_class = TestCaseWriteSerializer

    def visible_queryset(self):
        queryset = selectors.test_cases_visible_to(self.request.user)
        if self.action != "list":
            queryset = queryset.prefetch_related(Prefetch("steps", queryset=TestStep.objects.order_by("order_index")))
        return queryset

    def object_create(self, *, project, data):
        return services.test_case_create(
            project=project, author=self.request.user, source=CaseVersion.Source.API, **data
        )

    def object_update(self, case, *, data, partial):
        return services.test_case_update(case=case, user=self.request.user, source=CaseVersion.Source.API, **data)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        rows = self.paginate_queryset(TEST_CASE_LIST_VALUES.values(queryset))
        tags = selectors.tag_names_by_case([row["id"] for row in rows])
        for row in rows:
            row["tag_names"] = tags.get(row["id"], [])
        return self.get_paginated_response(TEST_CASE_LIST_VALUES(rows))

    def object_delete(self, case):
        services.test_case_delete(case=case)

    @extend_schema(summary="Copy a test case with its steps and tags, as a draft", request=DuplicateSerializer,
                   responses={201: TestCaseDetailSerializer})  # fmt: skip
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        case = self.get_object()
        serializer = DuplicateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        copy = services.test_case_duplicate(case=case, author=request.user, name=serializer.validated_data.get("name"))
        return self.detail_response(copy, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Create up to 100 test cases; each invalid one is reported by its index",
        request=TestCaseBulkSerializer,
        responses=TestCaseBulkResultSerializer,
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        # The platform's design sends a bare array; {"cases": [...]} came first. Both are kept.
        items = request.data.get("cases") if isinstance(request.data, dict) else request.data
        if not isinstance(items, list) or not items:
            message = f"Send [...] or {{'cases': [...]}} with 1 to {MAX_BULK} cases."
            raise ValidationFailed(message, {"cases": [message]})
        if len(items) > MAX_BULK:
            message = f"At most {MAX_BULK} cases per request; nothing was created."
            raise ValidationFailed(message, {"cases": [message]})
        created, errors = [], {}
        for index, item in enumerate(items):
            try:
                created.append(str(self._bulk_create_one(item).pk))
            except ApplicationError as error:
                errors[str(index)] = error.details or {"non_field_errors": [error.message]}
        return Response({"created": created, "errors": errors})

    def _bulk_create_one(self, item):
        serializer = TestCaseWriteSerializer(data=item)
        if not serializer.is_valid():
            # ErrorDetail is a str, so a JSON round trip leaves plain lists and dicts.
            raise ValidationFailed("Invalid case.", json.loads(json.dumps(serializer.errors)))
        data = dict(serializer.validated_data)
        project = self.project_for_create(data.pop("project"))
        # A savepoint per case: one case's conflict must not undo the others.
        with transaction.atomic():
            return services.test_case_create(
                project=project, author=self.request.user, source=CaseVersion.Source.API, **data
            )


@documented(
    "project",
    list="Projects you are a member of",
    create="Create a project; you become its maintainer",
    update="Replace a project's settings (maintainers)",
    partial_update="Change some of a project's settings (maintainers)",
    destroy="Delete a project and everything in it (maintainers)",
)
class ProjectViewSet(ProjectScopedModelViewSet):
    model = Project
    object_label = "Project"
    serializer_class = ProjectSerializer
    write_role = Role.MAINTAINER

    def visible_queryset(self):
        my_role = Membership.objects.filter(project=OuterRef("pk"), user=self.request.user).values("role")[:1]
        return selectors.projects_visible_to(self.request.user).annotate(my_role=Subquery(my_role)).order_by("name")

    def project_id_of(self, project):
        return project.pk

    def create(self, request, *args, **kwargs):
        # Anyone signed in may start a project of their own.
        project = services.project_create(creator=request.user, **self.write_payload())
        return self.detail_response(project, status.HTTP_201_CREATED)

    def object_update(self, project, *, data, partial):
        return services.project_update(project=project, **data)

    def object_delete(self, project):
        services.project_delete(project=project)

    @extend_schema(methods=["GET"], summary="Members of the project", responses=MemberSerializer(many=True))
    @extend_schema(methods=["POST"], summary="Add a member or change a member's role (maintainers)",
                   request=MemberSerializer, responses={200: MemberSerializer, 201: MemberSerializer})  # fmt: skip
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        project = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.memberships_of(project))
            return self.get_paginated_response(MemberSerializer(page, many=True).data)
        serializer = MemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, created = services.membership_set(
            project=project,
            username=serializer.validated_data["user"]["username"],
            role=serializer.validated_data["role"],
        )
        return Response(MemberSerializer(membership).data, status=201 if created else 200)

    @extend_schema(summary="Remove a member (maintainers)", responses={204: None},
                   parameters=[OpenApiParameter("username", str, OpenApiParameter.PATH)])  # fmt: skip
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<username>[^/]+)")
    def member_remove(self, request, pk=None, username=None):
        services.membership_remove(project=self.get_object(), username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)


@documented(
    "environment",
    list="Environments; secret variable values are always null",
    update="Replace an environment; `variables` replaces all variables",
)
class EnvironmentViewSet(ProjectScopedModelViewSet):
    model = Environment
    object_label = "Environment"
    filterset_class = filters.ProjectScopedFilter
    serializer_class = EnvironmentSerializer

    def visible_queryset(self):
        return selectors.environments_visible_to(self.request.user).order_by("name", "id")

    def object_create(self, *, project, data):
        return services.environment_create(project=project, **data)

    def object_update(self, environment, *, data, partial):
        return services.environment_update(environment=environment, **data)

    def object_delete(self, environment):
        services.environment_delete(environment=environment)


@documented(
    "suite", list="Suites with their ordered case ids", update="Replace a suite; `cases` sets the cases and their order"
)
class SuiteViewSet(ProjectScopedModelViewSet):
    model = TestSuite
    object_label = "Suite"
    filterset_class = filters.ProjectScopedFilter
    serializer_class = SuiteSerializer

    def visible_queryset(self):
        return selectors.suites_visible_to(self.request.user).order_by("name", "id")

    def object_create(self, *, project, data):
        return services.suite_create(project=project, case_ids=data.pop("cases", []), **data)

    def object_update(self, suite, *, data, partial):
        return services.suite_update(suite=suite, case_ids=data.pop("cases", None), **data)

    def object_delete(self, suite):
        services.suite_delete(suite=suite)
