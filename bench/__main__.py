"""`python -m bench [name …]`: run benchmarks, each in its own interpreter, and print one table.

Names: engine, peer, side_import, throughput, distribution, dispatch, api, soak, assistant, timings,
reports_accuracy, reports_scale, live (default: all). BENCH_QUICK=1 runs a smoke-sized version of each. Results go to
bench/results/<name>.json and the combined table to
bench/results/summary.md; a full run of all of them also rewrites the README's Performance table
(bench/readme.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from bench import common

BENCHMARKS = (
    "engine", "peer", "side_import", "throughput", "distribution", "dispatch", "api", "soak", "assistant",
    "timings", "reports_accuracy", "reports_scale", "live",
)  # fmt: skip


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"\n== {name}{' (quick)' if common.QUICK else ''} ==", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=common.BASE_DIR, env=os.environ.copy())
        print(f"({name}: {time.monotonic() - started:.0f} s)", flush=True)
        if result.returncode:
            failed.append(name)
    summary = [f"Machine: {os.cpu_count()} cores; BENCH_QUICK={int(common.QUICK)}; {time.strftime('%Y-%m-%d %H:%M')}"]
    for name in BENCHMARKS:
        path = common.RESULTS_DIR / f"{name}.json"
        if name in names and name not in failed and path.exists():
            summary += ["", common.table(name, json.loads(path.read_text())["rows"])]
    text = "\n".join(summary) + "\n"
    (common.RESULTS_DIR / "summary.md").write_text(text)
    print("\n" + text)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    elif not common.QUICK and set(names) == set(BENCHMARKS):
        from bench.readme import readme_rewrite

        readme_rewrite()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
