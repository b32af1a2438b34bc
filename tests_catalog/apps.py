from django.apps import AppConfig


class TestsCatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tests_catalog"
    verbose_name = "Test catalog"

    def ready(self):
        from tests_catalog import signals  # noqa: F401 - connects the receivers
        from tests_catalog.api import schema  # noqa: F401 - registers the schema extension
