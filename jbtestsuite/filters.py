"""Query-parameter filters shared by the apps' list endpoints."""

import django_filters
from django import forms

BIGINT_MAX = 2**63 - 1


class WholeNumberFilter(django_filters.NumberFilter):
    """An id-like query parameter: a whole number from 1 to bigint's maximum, else a 400 naming it.

    django-filter's NumberFilter takes decimals of any size, which the database then refuses
    (or, on SQLite, overflows on) with a 500.
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)
