"""`python -m bench.readme`: rewrite the README's Performance table from bench/results/*.json.

The table sits between two marker comments in README.md and is never edited by hand: each row is
a figure of the latest result file of each benchmark, with the date, the machine's cores and the
load average the benchmark saw. `python -m bench` runs this after a full run of every benchmark.
Results of a quick (smoke) run are refused: they are not measurements.
"""

from __future__ import annotations

import json
import sys

from bench import common
from bench.__main__ import BENCHMARKS

README = common.BASE_DIR / "README.md"
BEGIN = "<!-- bench:table (written by `python -m bench.readme`; do not edit by hand) -->"
END = "<!-- /bench:table -->"


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(results: dict[str, dict]) -> str:
    header = "| Benchmark | Finished (UTC), cores, load average then (1/5/15 min), rounds | Figure | Result | Target |"
    lines = [header, "|---|---|---|---|---|"]
    for name in BENCHMARKS:
        if name not in results:
            continue
        payload = results[name]
        machine = payload["machine"]
        load = "/".join(f"{value:.1f}" for value in machine["load_average_at_start"])
        when = (f"{payload['finished_at'][:16].replace('T', ' ')}, {machine['cores']} cores, load {load}, "
                f"{payload['pairs']} rounds")  # fmt: skip
        for index, item in enumerate(payload["rows"]):
            mark = "" if item.get("met") is None else (" ✓" if item["met"] else " ✗ not met")
            value = f"{common.shown(item['value'])} {item.get('unit', '')}".strip()
            target = f"{item.get('target', '')}{mark}".strip()
            lines.append(f"| {name if index == 0 else ''} | {when if index == 0 else ''} | {_cell(item['figure'])} | "
                         f"{_cell(value)} | {_cell(target)} |")  # fmt: skip
    return "\n".join(lines)


def results_load() -> dict[str, dict]:
    results = {}
    for name in BENCHMARKS:
        path = common.RESULTS_DIR / f"{name}.json"
        if path.exists():
            payload = json.loads(path.read_text())
            if payload.get("quick"):
                print(f"skipping {path.name}: a quick run, not a measurement", file=sys.stderr)
                continue
            results[name] = payload
    return results


def readme_rewrite() -> bool:
    """Replace the table between the markers; False when there is nothing to write or no markers."""
    results = results_load()
    if not results:
        print("no full-run results in bench/results/", file=sys.stderr)
        return False
    text = README.read_text()
    if BEGIN not in text or END not in text:
        print(f"README.md has no {BEGIN!r} … {END!r} markers", file=sys.stderr)
        return False
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{table(results)}\n{END}{tail}")
    print(f"README.md: Performance table rewritten from {', '.join(results)}")
    return True


if __name__ == "__main__":
    sys.exit(0 if readme_rewrite() else 1)
