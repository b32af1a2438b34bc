import pytest
from django.core.management import CommandError, call_command

from executions.models import Execution
from tests_catalog.models import Project, TestCase, TestStep

pytestmark = pytest.mark.django_db


def test_it_seeds_cases_with_steps_tags_and_executions():
    call_command("seed_benchmark_data", "--cases", "30", "--steps-per-case", "3", "--executions", "12", "--tags", "5")
    project = Project.objects.get(slug="bench")
    assert TestCase.objects.filter(project=project).count() == 30
    assert TestStep.objects.filter(case__project=project).count() == 90
    assert Execution.objects.filter(project=project).count() == 12
    assert TestCase.tags.through.objects.exists()
    # Spread creation times, so sorting by them means something.
    assert TestCase.objects.values("created_at").distinct().count() == 30


def test_it_refuses_to_seed_twice():
    call_command("seed_benchmark_data", "--cases", "2", "--executions", "0")
    with pytest.raises(CommandError, match="already holds benchmark data"):
        call_command("seed_benchmark_data", "--cases", "2")
