"""Building .side projects for tests: commands as (command, target, value[, targets])."""

from __future__ import annotations

import json


def command(name: str, target: str = "", value: str = "", targets=None, comment: str = "", **extra) -> dict:
    return {"id": f"cmd-{name}-{abs(hash((name, target, value, comment))) % 10**8}", "comment": comment,
            "command": name, "target": target, "targets": targets or [], "value": value, **extra}  # fmt: skip


def side_project(tests: dict[str, list], *, suites: dict[str, list[str]] | None = None, url: str = "",
                 version: str = "2.0", name: str = "Recorded") -> dict:  # fmt: skip
    ids = {test_name: f"test-{position}" for position, test_name in enumerate(tests)}
    return {
        "id": "side-project-1",
        "version": version,
        "name": name,
        "url": url,
        "tests": [
            {
                "id": ids[test_name],
                "name": test_name,
                "commands": [c if isinstance(c, dict) else command(*c) for c in cmds],
            }
            for test_name, cmds in tests.items()
        ],
        "suites": [
            {
                "id": f"suite-{position}",
                "name": suite_name,
                "persistSession": False,
                "parallel": False,
                "timeout": 300,
                "tests": [ids[t] for t in members],
            }
            for position, (suite_name, members) in enumerate((suites or {}).items())
        ],
        "urls": [url] if url else [],
        "plugins": [],
    }


def side_bytes(project: dict) -> bytes:
    return json.dumps(project).encode()
