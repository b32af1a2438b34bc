"""Query-parameter filters shared by the apps' list endpoints."""

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend

from jbtestsuite.errors import ValidationFailed

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


class NonEmptyFilterBackend(DjangoFilterBackend):
    """django-filter, except that a filter given with an empty value is a 400 naming it.

    django-filter reads `?project=` as "no filter", so a client whose variable was unset got
    every project's rows instead of an error.
    """

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            empty = [
                name
                for name in filterset.filters
                if name in request.query_params
                and any(not value.strip() for value in request.query_params.getlist(name))
            ]
            if empty:
                details = {name: ["Give a value, or leave the parameter out."] for name in empty}
                raise ValidationFailed(f"Empty query parameter: {', '.join(empty)}.", details)
        return filterset
