"""The API's JSON parser: refuses what the rest of the stack cannot store or walk.

A lone UTF-16 surrogate (`"\\udfff"`) is valid JSON but not valid Unicode text: PostgreSQL
refuses to store it and SQLite stores a value nothing can read back. Deep nesting makes every
recursive consumer (the parser itself, serializers, `json.dumps`) overflow Python's stack.
Both are refused here, once, for every field of every endpoint.
"""

from __future__ import annotations

import codecs
import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any body the API documents (a case's steps are three levels deep).
MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_problem(data, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why parsed JSON is refused, or None. Walks without recursion, so any depth is safe."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return "Text cannot contain lone UTF-16 surrogates (such as \\udfff)."
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > max_depth:
            return f"JSON nested deeper than {max_depth} levels is not accepted."
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, depth))
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in value)
    return None


def _depth_exceeds(text: str, max_depth: int) -> bool:
    """A bracket count that ignores strings: refuses a 50 000-deep list before the parser recurses."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in "]}":
            depth -= 1
    return False


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError:
            raise ParseError("JSON parse error - the body is not valid UTF-8.") from None
        if ("[" in text or "{" in text) and _depth_exceeds(text, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as error:
            raise ParseError(f"JSON parse error - {error}") from None
        problem = json_problem(data)
        if problem:
            raise ParseError(f"JSON parse error - {problem}")
        return data


def _no_constant(name: str):
    # NaN and Infinity are not JSON; Python accepts them unless told otherwise.
    raise ValueError(f"{name} is not valid JSON")
