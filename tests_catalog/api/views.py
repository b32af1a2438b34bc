"""Catalog endpoints. Objects of projects you are not a member of answer 404; too low a role, 403."""

import json
import uuid

from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from jbtestsuite.errors import ApplicationError, NotFound, ValidationFailed
from jbtestsuite.pagination import CursorEnvelopePagination
from tests_catalog import selectors, services
from tests_catalog.api import filters
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
from tests_catalog.models import Environment, Membership, Project, Role, TestCase, TestStep, TestSuite

MAX_BULK = 100


class CatalogViewSet(viewsets.GenericViewSet):
    object_label = "Object"

    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return self.model.objects.none()
        return self.visible_queryset()

    def visible_queryset(self):
        raise NotImplementedError(f"{type(self).__name__} must say which objects the user may see")

    def object_get(self):
        """The object named in the URL, if the user may see it; NotFound otherwise."""
        try:
            pk = uuid.UUID(str(self.kwargs["pk"]))
        except ValueError:
            raise NotFound(f"{self.object_label} not found.") from None
        found = self.get_queryset().filter(pk=pk).first()
        if found is None:
            raise NotFound(f"{self.object_label} not found.")
        return found

    def project_for_write(self, project_id, role: str) -> Project:
        return services.project_for_write(user=self.request.user, project_id=project_id, role=role)

    def require(self, project: Project, role: str) -> None:
        services.project_role_require(user=self.request.user, project=project, role=role)

    def paginated(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)


def _project_move_check(data: dict, current_project_id) -> None:
    moved = data.pop("project_id", data.pop("project", current_project_id))
    if str(moved) != str(current_project_id):
        message = "An object cannot move to another project."
        raise ValidationFailed(message, {"project": [message]})


class TestCaseViewSet(CatalogViewSet):
    __test__ = False

    model = TestCase
    object_label = "Test case"
    filterset_class = filters.TestCaseFilter
    pagination_class = CursorEnvelopePagination
    serializer_class = TestCaseListSerializer

    def visible_queryset(self):
        queryset = selectors.test_cases_visible_to(self.request.user)
        if self.action != "list":
            queryset = queryset.prefetch_related(Prefetch("steps", queryset=TestStep.objects.order_by("order_index")))
        return queryset

    def _detail(self, case, status_code=status.HTTP_200_OK):
        self.kwargs["pk"] = case.pk
        return Response(TestCaseDetailSerializer(self.object_get()).data, status=status_code)

    @extend_schema(summary="List test cases", responses=TestCaseListSerializer(many=True))
    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        rows = self.paginate_queryset(TEST_CASE_LIST_VALUES.values(queryset))
        tags = selectors.tag_names_by_case([row["id"] for row in rows])
        for row in rows:
            row["tag_names"] = tags.get(row["id"], [])
        return self.get_paginated_response(TEST_CASE_LIST_VALUES(rows))

    @extend_schema(summary="Create a test case with its steps", request=TestCaseWriteSerializer,
                   responses={201: TestCaseDetailSerializer})  # fmt: skip
    def create(self, request):
        serializer = TestCaseWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        project = self.project_for_write(data.pop("project"), Role.EDITOR)
        case = services.test_case_create(project=project, author=request.user, **data)
        return self._detail(case, status.HTTP_201_CREATED)

    @extend_schema(summary="A test case with its steps", responses=TestCaseDetailSerializer)
    def retrieve(self, request, pk=None):
        return Response(TestCaseDetailSerializer(self.object_get()).data)

    def _update(self, request, *, partial: bool):
        case = self.object_get()
        serializer = TestCaseWriteSerializer(data=request.data, partial=partial, creating=False)
        serializer.is_valid(raise_exception=True)
        self.require(case.project, Role.EDITOR)
        data = dict(serializer.validated_data)
        _project_move_check(data, case.project_id)
        services.test_case_update(case=case, **data)
        return self._detail(case)

    @extend_schema(summary="Replace a test case (steps, when given, replace all steps)",
                   request=TestCaseWriteSerializer, responses=TestCaseDetailSerializer)  # fmt: skip
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some fields of a test case", request=TestCaseWriteSerializer,
                   responses=TestCaseDetailSerializer)  # fmt: skip
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    @extend_schema(summary="Delete a test case", responses={204: None})
    def destroy(self, request, pk=None):
        case = self.object_get()
        self.require(case.project, Role.EDITOR)
        services.test_case_delete(case=case)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Copy a test case with its steps and tags, as a draft", request=DuplicateSerializer,
                   responses={201: TestCaseDetailSerializer})  # fmt: skip
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        case = self.object_get()
        serializer = DuplicateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.require(case.project, Role.EDITOR)
        copy = services.test_case_duplicate(case=case, author=request.user, name=serializer.validated_data.get("name"))
        return self._detail(copy, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Create up to 100 test cases; each invalid one is reported by its index",
        request=TestCaseBulkSerializer,
        responses=TestCaseBulkResultSerializer,
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        items = request.data.get("cases") if isinstance(request.data, dict) else None
        if not isinstance(items, list) or not items:
            message = f"Send {{'cases': [...]}} with 1 to {MAX_BULK} cases."
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
        project = self.project_for_write(data.pop("project"), Role.EDITOR)
        # A savepoint per case: one case's conflict must not undo the others.
        with transaction.atomic():
            return services.test_case_create(project=project, author=self.request.user, **data)


class ProjectViewSet(CatalogViewSet):
    model = Project
    object_label = "Project"
    serializer_class = ProjectSerializer

    def visible_queryset(self):
        my_role = Membership.objects.filter(project=OuterRef("pk"), user=self.request.user).values("role")[:1]
        return selectors.projects_visible_to(self.request.user).annotate(my_role=Subquery(my_role)).order_by("name")

    def _detail(self, project, status_code=status.HTTP_200_OK):
        self.kwargs["pk"] = project.pk
        return Response(ProjectSerializer(self.object_get()).data, status=status_code)

    @extend_schema(summary="Projects you are a member of")
    def list(self, request):
        return self.paginated(self.get_queryset(), ProjectSerializer)

    @extend_schema(summary="Create a project; you become its maintainer", responses={201: ProjectSerializer})
    def create(self, request):
        serializer = ProjectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_create(creator=request.user, **serializer.validated_data)
        return self._detail(project, status.HTTP_201_CREATED)

    @extend_schema(summary="A project")
    def retrieve(self, request, pk=None):
        return Response(ProjectSerializer(self.object_get()).data)

    def _update(self, request, *, partial: bool):
        project = self.object_get()
        serializer = ProjectSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.require(project, Role.MAINTAINER)
        services.project_update(project=project, **serializer.validated_data)
        return self._detail(project)

    @extend_schema(summary="Replace a project's settings (maintainers)")
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some of a project's settings (maintainers)")
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    @extend_schema(summary="Delete a project and everything in it (maintainers)", responses={204: None})
    def destroy(self, request, pk=None):
        project = self.object_get()
        self.require(project, Role.MAINTAINER)
        services.project_delete(project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], summary="Members of the project", responses=MemberSerializer(many=True))
    @extend_schema(methods=["POST"], summary="Add a member or change a member's role (maintainers)",
                   request=MemberSerializer, responses={200: MemberSerializer, 201: MemberSerializer})  # fmt: skip
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        project = self.object_get()
        if request.method == "GET":
            return self.paginated(selectors.memberships_of(project), MemberSerializer)
        serializer = MemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.require(project, Role.MAINTAINER)
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
        project = self.object_get()
        self.require(project, Role.MAINTAINER)
        services.membership_remove(project=project, username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EnvironmentViewSet(CatalogViewSet):
    model = Environment
    object_label = "Environment"
    filterset_class = filters.ProjectScopedFilter
    serializer_class = EnvironmentSerializer

    def visible_queryset(self):
        return selectors.environments_visible_to(self.request.user).order_by("name", "id")

    def _detail(self, environment, status_code=status.HTTP_200_OK):
        self.kwargs["pk"] = environment.pk
        return Response(EnvironmentSerializer(self.object_get()).data, status=status_code)

    @extend_schema(summary="Environments; secret variable values are always null")
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), EnvironmentSerializer)

    @extend_schema(summary="Create an environment", responses={201: EnvironmentSerializer})
    def create(self, request):
        serializer = EnvironmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        project = self.project_for_write(data.pop("project_id"), Role.EDITOR)
        environment = services.environment_create(project=project, **data)
        return self._detail(environment, status.HTTP_201_CREATED)

    @extend_schema(summary="An environment")
    def retrieve(self, request, pk=None):
        return Response(EnvironmentSerializer(self.object_get()).data)

    def _update(self, request, *, partial: bool):
        environment = self.object_get()
        serializer = EnvironmentSerializer(data=request.data, partial=partial, creating=False)
        serializer.is_valid(raise_exception=True)
        self.require(environment.project, Role.EDITOR)
        data = dict(serializer.validated_data)
        _project_move_check(data, environment.project_id)
        services.environment_update(environment=environment, **data)
        return self._detail(environment)

    @extend_schema(summary="Replace an environment; `variables` replaces all variables")
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some fields of an environment")
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    @extend_schema(summary="Delete an environment", responses={204: None})
    def destroy(self, request, pk=None):
        environment = self.object_get()
        self.require(environment.project, Role.EDITOR)
        services.environment_delete(environment=environment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SuiteViewSet(CatalogViewSet):
    model = TestSuite
    object_label = "Suite"
    filterset_class = filters.ProjectScopedFilter
    serializer_class = SuiteSerializer

    def visible_queryset(self):
        return selectors.suites_visible_to(self.request.user).order_by("name", "id")

    def _detail(self, suite, status_code=status.HTTP_200_OK):
        self.kwargs["pk"] = suite.pk
        return Response(SuiteSerializer(self.object_get()).data, status=status_code)

    @extend_schema(summary="Suites with their ordered case ids")
    def list(self, request):
        return self.paginated(self.filter_queryset(self.get_queryset()), SuiteSerializer)

    @extend_schema(summary="Create a suite", responses={201: SuiteSerializer})
    def create(self, request):
        serializer = SuiteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        project = self.project_for_write(data.pop("project_id"), Role.EDITOR)
        suite = services.suite_create(project=project, case_ids=data.pop("cases", []), **data)
        return self._detail(suite, status.HTTP_201_CREATED)

    @extend_schema(summary="A suite")
    def retrieve(self, request, pk=None):
        return Response(SuiteSerializer(self.object_get()).data)

    def _update(self, request, *, partial: bool):
        suite = self.object_get()
        serializer = SuiteSerializer(data=request.data, partial=partial, creating=False)
        serializer.is_valid(raise_exception=True)
        self.require(suite.project, Role.EDITOR)
        data = dict(serializer.validated_data)
        _project_move_check(data, suite.project_id)
        services.suite_update(suite=suite, case_ids=data.pop("cases", None), **data)
        return self._detail(suite)

    @extend_schema(summary="Replace a suite; `cases` sets the cases and their order")
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(summary="Change some fields of a suite")
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    @extend_schema(summary="Delete a suite", responses={204: None})
    def destroy(self, request, pk=None):
        suite = self.object_get()
        self.require(suite.project, Role.EDITOR)
        services.suite_delete(suite=suite)
        return Response(status=status.HTTP_204_NO_CONTENT)
