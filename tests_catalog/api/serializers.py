"""Request and response shapes. Validation of meaning (uniqueness, roles) lives in services."""

from zoneinfo import available_timezones

from rest_framework import serializers

from jbtestsuite.listing import ValuesRepresentation
from tests_catalog import step_actions
from tests_catalog.api.scoping import ProjectScopedWriteSerializer
from tests_catalog.models import EnvironmentVariable, Role, TestCase, TestStep
from tests_catalog.services import steps_errors

PG_MAX_INT = 2_147_483_647
MAX_STEPS = 500
MAX_TAGS = 50
MAX_VARIABLES = 200

# The `action` enum of the schema, with each action's one-line doc as its description.
ACTION_CHOICES = [(action.name, action.doc) for action in step_actions.ACTIONS.values()]


def _has_null_character(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_null_character(k) or _has_null_character(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_null_character(item) for item in value)
    return False


class IndexedErrorsListSerializer(serializers.ListSerializer):
    """Item errors keyed by the item's index, {"2": {"value": [...]}}, rather than a list padded with {}."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, list):
                raise serializers.ValidationError(
                    {str(index): detail for index, detail in enumerate(error.detail) if detail}
                ) from None
            raise


class TagListField(serializers.ListField):
    child = serializers.CharField(max_length=50)

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_TAGS)
        super().__init__(**kwargs)

    def to_representation(self, data):
        return [tag.name for tag in data.all()]


class StepSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    order_index = serializers.IntegerField(read_only=True, help_text="Assigned by the server: 0, 1, 2… in order.")
    action = serializers.ChoiceField(choices=ACTION_CHOICES)
    selector_type = serializers.ChoiceField(
        choices=step_actions.SELECTOR_TYPES, default=step_actions.DEFAULT_SELECTOR_TYPE
    )
    selector = serializers.CharField(allow_blank=True, default="", trim_whitespace=False, max_length=10_000)
    value = serializers.CharField(allow_blank=True, default="", trim_whitespace=False, max_length=100_000)
    timeout_ms = serializers.IntegerField(
        min_value=1, max_value=TestStep.MAX_TIMEOUT_MS, allow_null=True, default=None, help_text="null: default."
    )
    description = serializers.CharField(max_length=500, allow_blank=True, default="")
    continue_on_failure = serializers.BooleanField(default=False)
    targets = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        default=list, help_text='Alternate locators tried in order when the main one finds nothing: [["css", "#go"]].',
    )  # fmt: skip
    enabled = serializers.BooleanField(default=True, help_text="A disabled step is kept but never runs.")
    options = serializers.DictField(
        default=dict, help_text="loop_limit; opens_window, window_handle_name, window_timeout_ms; import bookkeeping."
    )

    class Meta:
        list_serializer_class = IndexedErrorsListSerializer


class TestCaseListSerializer(serializers.Serializer):
    __test__ = False

    id = serializers.UUIDField()
    project = serializers.UUIDField(source="project_id")
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=TestCase.Status.choices)
    priority = serializers.ChoiceField(choices=TestCase.Priority.choices)
    tags = TagListField()
    author = serializers.CharField(source="author.username", allow_null=True, help_text="Username of the author.")
    category = serializers.CharField()
    is_automated = serializers.BooleanField()
    step_count = serializers.IntegerField()
    execution_count = serializers.IntegerField()
    last_execution_status = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# The list page's JSON from values() rows (jbtestsuite.listing); `tags` come from one more query,
# put on each row as `tag_names` (tests_catalog.selectors.tag_names_by_case).
TEST_CASE_LIST_VALUES = ValuesRepresentation(
    TestCaseListSerializer, lookups={"tags": None}, represent={"tags": lambda row: row["tag_names"]}
)


class TestCaseDetailSerializer(TestCaseListSerializer):
    metadata = serializers.DictField()
    expected_duration_seconds = serializers.IntegerField(allow_null=True)
    retry_count = serializers.IntegerField()
    steps = StepSerializer(many=True)


class TestCaseWriteSerializer(ProjectScopedWriteSerializer):
    __test__ = False

    project = serializers.UUIDField(help_text="Required when creating; a case cannot move to another project.")
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(allow_blank=True, required=False, max_length=100_000)
    status = serializers.ChoiceField(choices=TestCase.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=TestCase.Priority.choices, required=False)
    category = serializers.CharField(max_length=100, allow_blank=True, required=False)
    tags = TagListField(required=False, help_text="Free-form tags; stored stripped and lower-cased.")
    metadata = serializers.DictField(required=False)
    expected_duration_seconds = serializers.IntegerField(
        min_value=1, max_value=PG_MAX_INT, allow_null=True, required=False
    )
    retry_count = serializers.IntegerField(min_value=0, max_value=TestCase.MAX_RETRIES, required=False)
    is_automated = serializers.BooleanField(required=False)
    steps = StepSerializer(many=True, required=False, max_length=MAX_STEPS, help_text="Replaces all steps, in order.")

    def validate_metadata(self, value):
        if _has_null_character(value):
            raise serializers.ValidationError("Text in metadata cannot contain NUL characters.")
        return value

    def validate_steps(self, steps):
        errors = steps_errors(steps)
        if errors:
            raise serializers.ValidationError(errors)
        return steps


class TestCaseBulkSerializer(serializers.Serializer):
    __test__ = False

    cases = TestCaseWriteSerializer(
        many=True, min_length=1, max_length=100,
        help_text="1 to 100 cases, each as for POST /tests/. A bare JSON array of cases is accepted too.",
    )  # fmt: skip


class TestCaseBulkResultSerializer(serializers.Serializer):
    __test__ = False

    created = serializers.ListField(child=serializers.UUIDField(), help_text="Ids of the created cases, in order.")
    errors = serializers.DictField(
        child=serializers.DictField(), help_text="Index of each case not created → its error details."
    )


class DuplicateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False, help_text='Default: "<name> (copy)".')


class ProjectSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100)
    description = serializers.CharField(allow_blank=True, required=False, max_length=100_000)
    base_url = serializers.URLField(max_length=500, allow_blank=True, required=False)
    timezone = serializers.CharField(max_length=64, required=False, help_text="IANA time zone, e.g. Europe/Berlin.")
    role = serializers.ChoiceField(
        choices=Role.choices, read_only=True, allow_null=True, source="my_role", help_text="Your role here."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_timezone(self, value):
        if value not in available_timezones():
            raise serializers.ValidationError(f"Unknown time zone {value!r}.")
        return value


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, source="user.username")
    role = serializers.ChoiceField(choices=Role.choices)
    created_at = serializers.DateTimeField(read_only=True)


class VariableSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    value = serializers.CharField(
        allow_blank=True,
        allow_null=True,
        required=False,
        trim_whitespace=False,
        max_length=100_000,
        help_text="Write-only when secret: always null in responses. Omit it to keep a secret's old value.",
    )
    secret = serializers.BooleanField(default=False)

    def to_representation(self, instance: EnvironmentVariable):
        return {"name": instance.name, "value": None if instance.secret else instance.value, "secret": instance.secret}

    class Meta:
        list_serializer_class = IndexedErrorsListSerializer


class EnvironmentSerializer(ProjectScopedWriteSerializer):
    id = serializers.UUIDField(read_only=True)
    project = serializers.UUIDField(source="project_id", help_text="Required when creating.")
    name = serializers.CharField(max_length=100)
    base_url = serializers.URLField(max_length=500, allow_blank=True, required=False)
    variables = VariableSerializer(many=True, required=False, max_length=MAX_VARIABLES)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class SuiteCaseIdsField(serializers.ListField):
    child = serializers.UUIDField()

    def get_attribute(self, instance):
        return [entry.case_id for entry in instance.entries.all()]


class SuiteSerializer(ProjectScopedWriteSerializer):
    id = serializers.UUIDField(read_only=True)
    project = serializers.UUIDField(source="project_id", help_text="Required when creating.")
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(allow_blank=True, required=False, max_length=100_000)
    tags = TagListField(required=False)
    cases = SuiteCaseIdsField(required=False, max_length=1000, help_text="Case ids in run order; PUT reorders.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")
