"""List pages serialised from `QuerySet.values()` rows with a serializer's own fields.

A DRF serializer over model instances spends most of a 100-row page's CPU building the instances
(and their select_related and prefetched relations) and walking each field's `source` with
getattr. For read-only lists whose fields are plain columns or `a.b` lookups, asking the database
for exactly those values and formatting each with the same field's `to_representation` gives the
same JSON for a fraction of the CPU. The serializer stays the one definition of the shape (and of
the API schema); a test per list checks both ways agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers


class ValuesRepresentation:
    """Build a serializer's output from values() rows.

    lookups: output field → values() lookup, for fields whose source is not a plain lookup, or None
    for a field that `represent` fills from the whole row (e.g. from a second query).
    represent: output field → function of the raw value (or of the row, when its lookup is None),
    replacing the field's own to_representation; it also receives None values.
    """

    def __init__(self, serializer_class: type[serializers.Serializer], *, lookups: dict[str, str | None] | None = None,
                 represent: dict[str, Callable[[Any], Any]] | None = None) -> None:  # fmt: skip
        lookups = lookups or {}
        represent = represent or {}
        self.columns: list[tuple[str, str | None, Callable[[Any], Any], bool]] = []
        for name, field in serializer_class().fields.items():
            if name in lookups:
                lookup = lookups[name]
            elif field.source == "*" or isinstance(
                field,
                serializers.SerializerMethodField
                | serializers.BaseSerializer
                | serializers.ListField
                | serializers.DictField,
            ):
                raise ImproperlyConfigured(f"{serializer_class.__name__}.{name}: give its values() lookup")
            else:
                lookup = field.source.replace(".", "__")
            if name in represent:
                self.columns.append((name, lookup, represent[name], True))
            else:
                self.columns.append((name, lookup, field.to_representation, False))  # fmt: skip

    @property
    def lookups(self) -> list[str]:
        """What to pass to values()."""
        return [lookup for _name, lookup, _represent, _raw in self.columns if lookup]

    def values(self, queryset):
        """The queryset's rows as dicts of our lookups and its ordering columns (cursors need them)."""
        lookups = self.lookups
        ordering = [str(field).lstrip("-") for field in queryset.query.order_by]
        extra = [field for field in ordering if field not in lookups and field != "pk"]
        return queryset.prefetch_related(None).values(*lookups, *extra)

    def __call__(self, rows: Iterable[dict]) -> list[dict]:
        items = []
        for row in rows:
            item = {}
            for name, lookup, represent, raw in self.columns:
                if lookup is None:
                    item[name] = represent(row)
                    continue
                value = row[lookup]
                item[name] = represent(value) if raw or value is not None else None
            items.append(item)
        return items
