"""JUnit XML for CI servers: one <testcase> per case (its last attempt), steps in system-out."""

from __future__ import annotations

from xml.etree import ElementTree

from executions.models import Execution, RunStatus


def junit_xml(*, suite_name: str, executions: list[Execution]) -> bytes:
    failures = sum(e.status == RunStatus.FAILED for e in executions)
    errors = sum(e.status in (RunStatus.ERROR, RunStatus.CANCELLED) for e in executions)
    seconds = sum((e.duration_ms or 0) for e in executions) / 1000
    root = ElementTree.Element(
        "testsuites",
        name="JBTestSuite",
        tests=str(len(executions)),
        failures=str(failures),
        errors=str(errors),
        time=f"{seconds:.3f}",
    )
    suite = ElementTree.SubElement(
        root,
        "testsuite",
        name=suite_name,
        tests=str(len(executions)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=f"{seconds:.3f}",
    )
    for execution in executions:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=suite_name,
            name=execution.case_name,
            time=f"{(execution.duration_ms or 0) / 1000:.3f}",
        )
        if execution.status == RunStatus.FAILED:
            ElementTree.SubElement(case, "failure", message=execution.error_message[:500], type="AssertionFailed")
        elif execution.status in (RunStatus.ERROR, RunStatus.CANCELLED):
            ElementTree.SubElement(
                case, "error", message=execution.error_message[:500] or execution.status, type=execution.status
            )
        lines = [
            f"[{r.status:>7}] {r.order_index}: {'  ' * r.depth}{r.action} {r.selector} {r.value}".rstrip()
            + f" — {r.message}"
            for r in execution.step_results.all()
        ]
        lines.append(f"attempt {execution.attempt} of {execution.max_attempts}; execution {execution.id}")
        ElementTree.SubElement(case, "system-out").text = "\n".join(lines)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
