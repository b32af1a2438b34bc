import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin superuser unless it exists (password from ADMIN_PASSWORD, else generated and shown once)."

    def handle(self, *args, **options):
        User = get_user_model()
        username = settings.ADMIN_USERNAME
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin user '{username}' already exists; its password is unchanged.")
            return
        password = settings.ADMIN_PASSWORD or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=settings.ADMIN_EMAIL, password=password)
        if settings.ADMIN_PASSWORD:
            self.stdout.write(f"Created admin user '{username}' with the password from ADMIN_PASSWORD.")
        else:
            # Shown exactly once, on the terminal of the person who ran `make run`; never logged.
            self.stdout.write(self.style.WARNING(f"Created admin user '{username}' with password: {password}"))
            self.stdout.write("Write it down: it is not stored anywhere in clear and will not be shown again.")
