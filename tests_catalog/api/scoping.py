"""The one base of every project-scoped API resource: catalog, runs, schedules, channels, artifacts.

A resource says which objects the user may see (`visible_queryset`), which serializers it
speaks, and which services create, change and delete its objects; this module does the rest
the same way everywhere:
- objects of projects you are not a member of do not exist (404, also for a malformed id);
- too low a role answers 403, through `ProjectRole` and the catalog's one role check
  (`tests_catalog.services.project_role_require`), which the admin and the services use too;
- a new object goes into a project you may write to, and no object ever moves to another one.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response

from jbtestsuite.errors import NotFound, ValidationFailed
from tests_catalog import services
from tests_catalog.models import Project, Role
from tests_catalog.selectors import project_ids_with_role


class ProjectRole(permissions.BasePermission):
    """The view's `read_role` for reading an object, its `write_role` for anything else."""

    def has_object_permission(self, request, view, obj) -> bool:
        if view.role_required() == Role.VIEWER:
            return True  # the visible queryset holds only the user's projects: that is the check
        services.project_role_require(
            user=request.user, project=view.project_id_of(obj), role=view.role_required(), doing=view.doing
        )
        return True


class VisiblePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """Looks objects up among the requesting user's projects only: others 'do not exist'."""

    def get_queryset(self):
        user = self.context["request"].user
        return self.queryset.filter(project_id__in=project_ids_with_role(user))


class ProjectScopedWriteSerializer(serializers.Serializer):
    """What a client writes: `project` is required when creating and ignored (if unchanged) after.

    `create_defaults` names the fields whose default applies only when creating: an update
    that leaves them out keeps what is stored.
    """

    create_defaults: tuple[str, ...] = ()

    def __init__(self, *args, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not creating:
            self.fields["project"].required = False
            for name in self.create_defaults:
                self.fields[name].default = serializers.empty


class ProjectScopedViewSet(viewsets.GenericViewSet):
    """A resource whose every object belongs to one project.

    Subclasses set `model`, `serializer_class` (what is sent back; `list_serializer_class` for
    lists, if different) and `write_serializer_class`, and implement `visible_queryset` and
    whichever of `object_create`, `object_update` and `object_delete` they offer.
    """

    model = None
    object_label = "Object"
    read_role = Role.VIEWER
    write_role = Role.EDITOR
    doing = "This"  # the subject of the 403 message: "<doing> needs the editor role in this project."
    write_serializer_class = None
    list_serializer_class = None
    permission_classes = [permissions.IsAuthenticated, ProjectRole]

    # --- What a resource says ---------------------------------------------------------------

    def visible_queryset(self):
        raise NotImplementedError(f"{type(self).__name__} must say which objects the user may see")

    def project_id_of(self, obj):
        return obj.project_id

    def object_create(self, *, project: Project, data: dict):
        raise NotImplementedError

    def object_update(self, obj, *, data: dict, partial: bool):
        raise NotImplementedError

    def object_delete(self, obj) -> None:
        raise NotImplementedError

    # --- Scoping and access -----------------------------------------------------------------

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return self.model.objects.none()
        return self.visible_queryset()

    def role_required(self) -> str:
        return self.read_role if self.request.method in permissions.SAFE_METHODS else self.write_role

    def get_object(self):
        """The object named in the URL if the user may see it (else 404) and act on it (else 403)."""
        try:  # a UUID for most resources; whatever the model's primary key is
            pk = self.model._meta.pk.to_python(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        except (ValidationError, ValueError, TypeError):
            raise NotFound(f"{self.object_label} not found.") from None
        found = self.get_queryset().filter(pk=pk).first()
        if found is None:
            raise NotFound(f"{self.object_label} not found.")
        self.check_object_permissions(self.request, found)
        return found

    def project_for_create(self, project_id) -> Project:
        """The project a new object goes into: 404 unless visible, 403 below `write_role`."""
        return services.project_for_write(user=self.request.user, project_id=project_id, role=self.write_role)

    def project_unchanged(self, data: dict, obj) -> None:
        """Take `project` out of an update's data; refuse it if it names another project."""
        current = self.project_id_of(obj)
        moved = data.pop("project_id", data.pop("project", current))
        if str(moved) != str(current):
            message = "An object cannot move to another project."
            raise ValidationFailed(message, {"project": [message]})

    # --- Responses --------------------------------------------------------------------------

    def detail_response(self, obj, status_code=status.HTTP_200_OK) -> Response:
        """The object read back through the visible queryset, so it looks exactly as a GET shows it."""
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)

    def write_payload(self, *, partial: bool = False, creating: bool = True) -> dict:
        serializer_class = self.write_serializer_class or self.get_serializer_class()
        extra = (
            {} if creating or not issubclass(serializer_class, ProjectScopedWriteSerializer) else {"creating": False}
        )
        payload = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context(), **extra
        )
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    def get_serializer_class(self):
        if self.action == "list" and self.list_serializer_class is not None:
            return self.list_serializer_class
        return super().get_serializer_class()


# Each resource takes the actions it offers (the router routes only those) and documents them
# with extend_schema_view.


class CreateInProject:
    def create(self, request, *args, **kwargs):
        data = self.write_payload()
        project = self.project_for_create(data.pop("project_id", data.pop("project", None)))
        return self.detail_response(self.object_create(project=project, data=data), status.HTTP_201_CREATED)


class UpdateInProject:
    def update(self, request, *args, **kwargs):
        return self._update(partial=False)

    def partial_update(self, request, *args, **kwargs):
        return self._update(partial=True)

    def _update(self, *, partial: bool):
        obj = self.get_object()
        data = self.write_payload(partial=partial, creating=False)
        self.project_unchanged(data, obj)
        return self.detail_response(self.object_update(obj, data=data, partial=partial))


class DestroyInProject:
    def destroy(self, request, *args, **kwargs):
        self.object_delete(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def documented(noun: str, *, plural: str = "", **summaries: str):
    """Class decorator: the OpenAPI summaries of a resource's standard actions, from its noun.

    `summaries` (action name → text) replace the defaults where a resource says more; writes
    document the resource's `write_serializer_class` as their request body.
    """

    a = "an" if noun[0] in "aeiou" else "a"

    def decorate(viewset):
        texts = {
            "list": f"List {plural or noun + 's'}",
            "create": f"Create {a} {noun}",
            "retrieve": f"{a.capitalize()} {noun}",
            "update": f"Replace {a} {noun}",
            "partial_update": f"Change some fields of {a} {noun}",
            "destroy": f"Delete {a} {noun}",
            **summaries,
        }
        request = {"request": viewset.write_serializer_class} if viewset.write_serializer_class else {}
        schemas = {
            action: extend_schema(
                summary=text,
                **(request if action in ("create", "update", "partial_update") else {}),
                **({"responses": {204: None}} if action == "destroy" else {}),
            )
            for action, text in texts.items()
            if hasattr(viewset, action)
        }
        return extend_schema_view(**schemas)(viewset)

    return decorate


class ProjectScopedModelViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CreateInProject, UpdateInProject, DestroyInProject,
    ProjectScopedViewSet,
):  # fmt: skip
    """List, retrieve, create, replace, change and delete: the whole set."""
