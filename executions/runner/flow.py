"""Walking a case's steps with Selenium IDE's control flow: if/else_if/else, while, do/repeat_if,
times, for_each, and `run` of another case as a sub-flow that shares the variables.

The blocks come from the registry's blocks_parse (the same matching that validated the case
when it was saved); the walker moves a step pointer over them. Loops are bounded: past the
limit the loop step errors, naming itself. The browser work of each step is the caller's
(`StepCalls`), so this module only decides which step runs next and how results are labelled.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from executions.runner.outcomes import ERROR, PASSED, SKIPPED, StepError, StepOutcome
from tests_catalog.step_actions import CONTROL_FLOW, LOOPS, Block, block_depths, blocks_parse


@dataclass
class Place:
    """Where a step runs: how deep, in which iteration of its innermost loop, in which sub-flow."""

    depth: int
    iteration: int | None
    flow: str


class StepCalls(Protocol):
    stopped: bool

    def checkpoint(self, step: Mapping[str, Any]) -> bool:
        """Before each step: False once the run is to stop (cancelled, timed out)."""

    def execute(self, step: Mapping[str, Any], place: Place) -> StepOutcome:
        """Run and record one ordinary step; sets `stopped` when the run must not go on."""

    def condition(self, step: Mapping[str, Any]) -> bool:
        """Evaluate a control step's JavaScript condition in the page. Raises StepError."""

    def record(self, step: Mapping[str, Any], place: Place, status: str, message: str, branch: str = "") -> None:
        """Record the outcome of a control step (or a skipped one)."""

    def text(self, raw: str) -> str:
        """A field with its ${variables} substituted. Raises StepError."""

    variables: dict[str, Any]


@dataclass
class _Loop:
    iteration: int = 0
    limit: int = 0
    items: list | None = None


class FlowWalker:
    def __init__(self, calls: StepCalls, *, flows: Mapping[str, Sequence[Mapping[str, Any]]], loop_max_iterations: int):
        self.calls = calls
        self.flows = flows
        self.loop_max_iterations = loop_max_iterations

    def walk(self, steps: Sequence[Mapping[str, Any]], *, depth: int = 0, flow: str = "",
             stack: Sequence[str] = ()) -> None:  # fmt: skip
        ordered = sorted(steps, key=lambda step: step["order_index"])
        actions = [step.get("action") if step.get("enabled", True) is not False else None for step in ordered]
        blocks, errors = blocks_parse(actions)
        depths = block_depths(actions)
        enclosing = _enclosing_loops(actions, blocks)
        loops: dict[int, _Loop] = {}
        calls = self.calls

        if errors:  # saved cases are validated; a snapshot from before validation still must not run wild
            first = min(errors)
            calls.record(ordered[first], Place(depth, None, flow), ERROR, errors[first])
            calls.stopped = True

        pc = 0
        while pc < len(ordered):
            step = ordered[pc]
            loop = loops.get(enclosing[pc]) if enclosing[pc] is not None else None
            place = Place(depth + depths[pc], loop.iteration if loop else None, flow)
            if calls.stopped:
                self._skip_rest(ordered[pc:], depth, depths[pc:], flow)
                return
            action = actions[pc]
            if action is None:
                reason = (step.get("options") or {}).get("reason") or "the step is disabled"
                calls.record(step, place, SKIPPED, f"disabled: {reason}")
                pc += 1
                continue
            if not calls.checkpoint(step):
                continue  # checkpoint stopped the run; the loop records the rest as skipped
            if action in CONTROL_FLOW:
                try:
                    pc = self._control(pc, ordered, blocks, loops, place)
                except StepError as error:
                    calls.record(step, place, ERROR, str(error))
                    calls.stopped = True
                    pc += 1
                continue
            if action == "run":
                self._run(step, place, stack or ("",))
                pc += 1
                continue
            calls.execute(step, place)
            pc += 1

    def _skip_rest(self, rest, depth, depths, flow) -> None:
        for step, step_depth in zip(rest, depths, strict=True):
            self.calls.record(
                step, Place(depth + step_depth, None, flow), SKIPPED, f"skipped: {self.calls.stop_reason}"
            )

    def _limit(self, step: Mapping[str, Any]) -> int:
        limit = (step.get("options") or {}).get("loop_limit")
        return int(limit) if limit else self.loop_max_iterations

    def _control(self, pc: int, ordered, blocks: dict[int, Block], loops: dict[int, _Loop], place: Place) -> int:
        step, action, block = ordered[pc], ordered[pc]["action"], blocks[pc]
        calls = self.calls
        if action == "if":
            return self._branches(pc, ordered, block, place)
        if action in ("else_if", "else"):  # reached by finishing the branch above it
            return block.closer + 1
        if action == "end":
            return pc + 1 if block.kind == "if" else block.opener
        if action == "do":
            loops[pc] = _Loop(iteration=1, limit=self._limit(step))
            calls.record(step, Place(place.depth, 1, place.flow), PASSED, "iteration 1", "iteration")
            return pc + 1
        if action == "repeat_if":
            loop = loops[block.opener]
            holds = calls.condition(step)
            calls.record(step, Place(place.depth, loop.iteration, place.flow), PASSED,
                         f"condition is {'true: again' if holds else 'false: done'}",
                         "true" if holds else "false")  # fmt: skip
            if not holds:
                loops.pop(block.opener, None)
                return pc + 1
            self._next_iteration(loop, ordered[block.opener])
            return block.opener + 1

        # while, times, for_each: evaluated at every arrival (first entry and after each end)
        loop = loops.get(pc)
        if loop is None:
            loop = loops[pc] = _Loop(limit=self._limit(step))
            if action == "times":
                count = calls.text(step.get("value") or "").strip()
                if not count.isdigit():
                    raise StepError(f"times needs a whole number, got {count!r}")
                loop.items = [None] * int(count)
                if len(loop.items) > loop.limit:
                    raise StepError(f"times {count} at step {step['order_index']} is more than the loop limit "
                                    f"of {loop.limit} iterations")  # fmt: skip
            elif action == "for_each":
                loop.items = _array(calls.variables, (step.get("selector") or "").strip())
        holds = calls.condition(step) if action == "while" else loop.iteration < len(loop.items or [])
        if not holds:
            loops.pop(pc, None)
            branch = "false" if action == "while" else "done"
            calls.record(step, Place(place.depth, loop.iteration or None, place.flow), PASSED,
                         f"done after {loop.iteration} iteration(s)", branch)  # fmt: skip
            return block.closer + 1
        self._next_iteration(loop, step)
        message = f"iteration {loop.iteration}"
        if action == "for_each":
            item = loop.items[loop.iteration - 1]
            calls.variables[(step.get("value") or "").strip()] = item
            message += f": ${{{step['value'].strip()}}} = {json.dumps(item) if not isinstance(item, str) else item}"
        calls.record(step, Place(place.depth, loop.iteration, place.flow), PASSED, message,
                     "true" if action == "while" else "iteration")  # fmt: skip
        return pc + 1

    def _next_iteration(self, loop: _Loop, opener: Mapping[str, Any]) -> None:
        loop.iteration += 1
        if loop.iteration > loop.limit:
            raise StepError(f"the {opener['action']} loop at step {opener['order_index']} ran more than "
                            f"{loop.limit} iterations (the loop limit)")  # fmt: skip

    def _branches(self, pc: int, ordered, block: Block, place: Place) -> int:
        """Test the if, then each else_if in turn; run the first branch that holds (or the else)."""
        calls = self.calls
        heads = [block.opener, *block.branches]
        for head in heads:
            step = ordered[head]
            if head != block.opener and not calls.checkpoint(step):
                return block.closer  # stopped: the walker records the rest as skipped
            if step["action"] == "else":
                calls.record(step, place, PASSED, "no branch above ran: taking else", "taken")
                return head + 1
            holds = calls.condition(step)
            calls.record(step, place, PASSED, f"condition is {'true: taking this branch' if holds else 'false'}",
                         "true" if holds else "false")  # fmt: skip
            if holds:
                return head + 1
        return block.closer + 1

    def _run(self, step: Mapping[str, Any], place: Place, stack: Sequence[str]) -> None:
        calls = self.calls
        try:
            name = calls.text(step.get("value") or "").strip()
            if name in stack:
                raise StepError(f"run would recurse: {' → '.join([*stack, name]).lstrip(' →')}")
            if name not in self.flows:
                raise StepError(f"no case called {name!r} was in the execution's snapshot")
        except StepError as error:
            calls.record(step, place, ERROR, str(error))
            calls.stopped = True
            return
        flow_steps = self.flows[name]
        calls.record(step, place, PASSED, f"running case {name!r} ({len(flow_steps)} steps)")
        self.walk(flow_steps, depth=place.depth + 1, flow=name, stack=[*stack, name])


def _array(variables: Mapping[str, Any], name: str) -> list:
    if name not in variables:
        raise StepError(f"for_each: undefined variable ${{{name}}}")
    value = variables[name]
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if not isinstance(value, list):
        raise StepError(f"for_each: ${{{name}}} is not an array")
    return value


def _enclosing_loops(actions: Sequence[str | None], blocks: dict[int, Block]) -> list[int | None]:
    """For each step, the opener index of the innermost loop it runs inside (None at no loop)."""
    result: list[int | None] = []
    open_loops: list[int] = []
    for index in range(len(actions)):
        block = blocks.get(index)
        if block is not None and block.kind in LOOPS and index == block.closer:
            open_loops = [opener for opener in open_loops if opener != block.opener]
        result.append(open_loops[-1] if open_loops else None)
        if block is not None and block.kind in LOOPS and index == block.opener:
            open_loops.append(index)
    return result
