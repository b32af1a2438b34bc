from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_it_creates_the_admin_once_with_a_generated_password(settings):
    settings.ADMIN_PASSWORD = ""
    first = _run()
    password = first.split("with password: ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password(password)

    second = _run()
    assert "already exists" in second
    assert password not in second
    admin.refresh_from_db()
    assert admin.check_password(password)


def test_it_uses_admin_password_without_printing_it(settings):
    settings.ADMIN_PASSWORD = "correct-horse-battery"
    output = _run()
    assert "correct-horse-battery" not in output
    assert get_user_model().objects.get(username="admin").check_password("correct-horse-battery")
