import datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

register = template.Library()

LETTERS = {"passed": "P", "failed": "F", "error": "E", "cancelled": "C"}
LABEL_TEXT = {"new_failure": "new failure", "known_failure": "known failure", "fixed": "fixed",
              "passed_on_retry": "passed on retry", "passed": "passed", "flaky": "flaky"}  # fmt: skip


@register.filter
def status_letter(status: str) -> str:
    return LETTERS.get(status, "?")


@register.filter
def label_text(label: str) -> str:
    return LABEL_TEXT.get(label, label or "no runs")


@register.filter
def seconds(ms) -> str:
    if ms is None:
        return "\u2013"
    return f"{ms / 1000:.1f} s" if ms < 60_000 else f"{ms / 60_000:.1f} min"


@register.filter
def percent(rate) -> str:
    return "\u2013" if rate is None else f"{rate * 100:.0f} %"


@register.filter
def iso_datetime(value) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime.datetime):
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "")
