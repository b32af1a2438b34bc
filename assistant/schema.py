"""The JSON schemas the model answers in, generated from the step registry.

Each action becomes one variant of a step: the action's name as a one-value enum and only the
fields that action uses (a selector type only where the selector names an element), all
required, nothing else allowed. That is what OpenAI's strict structured outputs accept, and it
tells the model which fields each action needs. Servers that cannot enforce a schema get it in
the prompt; every answer then passes `answer_steps_errors`, which is the catalog's own check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests_catalog import step_actions
from tests_catalog.services import steps_errors

# Fixed pauses make flaky tests; the assistant must wait for something instead.
GENERATION_EXCLUDED_ACTIONS = frozenset({"pause"})
CATEGORIES = ("product bug", "test needs update", "environment", "flaky", "unknown")
PATCH_OPS = ("replace", "insert", "delete")
# Positional XPaths from the document root break with the first layout change.
_ABSOLUTE_XPATH = re.compile(r"^\(?/html\b")


def step_variant(action: step_actions.Action) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "action": {"type": "string", "enum": [action.name], "description": action.doc},
    }
    if action.selector.is_used:
        if action.selector_is_element:
            properties["selector_type"] = {"type": "string", "enum": list(step_actions.SELECTOR_TYPES)}
        meaning = action.selector.meaning + ("" if action.selector.use == step_actions.REQUIRED else " (may be empty)")
        properties["selector"] = {"type": "string", "description": meaning}
    if action.value.is_used:
        meaning = action.value.meaning + ("" if action.value.use == step_actions.REQUIRED else " (may be empty)")
        properties["value"] = {"type": "string", "description": meaning}
    if action.category == "wait":
        properties["timeout_ms"] = {
            "type": ["integer", "null"],
            "description": "how long to wait in ms when the page is slow; null for the default",
        }
    properties["description"] = {"type": "string", "description": "what the step does, for a person"}
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def step_schema(*, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {"anyOf": [step_variant(a) for name, a in step_actions.ACTIONS.items() if name not in exclude]}


def generation_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "thought": {"type": "string", "description": "one or two sentences: what you see and plan"},
            "steps": {
                "type": "array",
                "description": "the next steps, run after the steps already accepted",
                "items": step_schema(exclude=GENERATION_EXCLUDED_ACTIONS),
            },
            "done": {"type": "boolean", "description": "true when, after these steps, the goal is reached and checked"},
            "give_up": {"type": "string", "description": "empty, or why the goal cannot be reached on this site"},
        },
        "required": ["thought", "steps", "done", "give_up"],
        "additionalProperties": False,
    }


def explanation_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "confidence": {"type": "number", "description": "0 to 1"},
            "explanation": {"type": "string", "description": "two or three sentences for a QA engineer"},
            "evidence": {"type": "array", "items": {"type": "string"}, "description": "what you relied on"},
            "patch": {
                "type": "array",
                "description": "only for 'test needs update': changes to the steps, indexes of the steps as given",
                "items": {
                    "type": "object",
                    "properties": {
                        "op": {"type": "string", "enum": list(PATCH_OPS)},
                        "index": {"type": "integer"},
                        "step": {"anyOf": [*step_schema()["anyOf"], {"type": "null"}]},
                    },
                    "required": ["op", "index", "step"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["category", "confidence", "explanation", "evidence", "patch"],
        "additionalProperties": False,
    }


def step_normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """A model's step as the catalog stores it: every field present, unused ones empty."""
    action = str(raw.get("action", ""))
    spec = step_actions.ACTIONS.get(action)
    step = {
        "action": action,
        "selector_type": str(raw.get("selector_type") or step_actions.DEFAULT_SELECTOR_TYPE),
        "selector": str(raw.get("selector") or ""),
        "value": str(raw.get("value") or ""),
        "description": str(raw.get("description") or "")[:500],
        "timeout_ms": None,
    }
    timeout = raw.get("timeout_ms")
    if spec is not None and spec.category == "wait" and isinstance(timeout, int) and not isinstance(timeout, bool):
        step["timeout_ms"] = timeout
    if spec is not None:
        if not spec.selector.is_used:
            step["selector"] = ""
        if not (spec.selector.is_used and spec.selector_is_element):
            step["selector_type"] = step_actions.DEFAULT_SELECTOR_TYPE
        if not spec.value.is_used:
            step["value"] = ""
    return step


def answer_steps_errors(steps: list[dict[str, Any]], *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The catalog's step errors, plus the assistant's own rules (no pauses, no root XPaths)."""
    errors = steps_errors(steps)
    for index, step in enumerate(steps):
        problems = errors.setdefault(str(index), {})
        if step["action"] in exclude:
            problems.setdefault("action", []).append(
                f"{step['action']} is not allowed here: wait for an element, a text or a URL instead."
            )
        if step["selector_type"] == "xpath" and _ABSOLUTE_XPATH.match(step["selector"]):
            problems.setdefault("selector", []).append(
                "A positional XPath from /html breaks with any layout change; use an id, data-test, name or text."
            )
        if step_actions.ACTIONS.get(step["action"]) and "***" in (step["selector"] + step["value"]):
            problems.setdefault("value", []).append("*** is a masked secret: write ${name} of the variable instead.")
        if not problems:
            errors.pop(str(index))
    return errors


def unknown_actions(steps: list[dict[str, Any]]) -> list[str]:
    return [step["action"] for step in steps if step["action"] not in step_actions.ACTIONS]


def schema_prompt(schema: dict[str, Any]) -> str:
    """The schema as text, for JSON mode, where the server cannot enforce it."""
    return "Answer with one JSON object that matches this JSON schema exactly:\n" + json.dumps(schema)
