"""Building step dicts in tests the way the Django side passes them to steps_run()."""

# Failing cases wait this long for something that never happens; short keeps the suite fast.
FAILING_TIMEOUT_MS = 300


def step(action, selector="", value="", **fields):
    """A step dict; order_index is filled in by the `run` fixture."""
    return {
        "action": action,
        "selector_type": fields.pop("selector_type", "css"),
        "selector": selector,
        "value": value,
        "timeout_ms": fields.pop("timeout_ms", None),
        "continue_on_failure": fields.pop("continue_on_failure", False),
        "description": "",
        **fields,
    }


def failing(action, selector="", value="", **fields):
    """A step expected not to pass, with the short timeout."""
    return step(action, selector, value, timeout_ms=FAILING_TIMEOUT_MS, **fields)
