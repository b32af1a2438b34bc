"""The raw-WebDriver baseline as a whole process: `python -m bench.plain_script SPEC.json` starts
Chromium exactly as our runner does (same binary, flags, window), sends each case's WebDriver
commands in that one browser, one case after another, and quits — what a hand-written Selenium
script doing the same work would cost. It never imports Django.

SPEC.json: {"base_url": "...", "cases": [[[action, selector, value], ...], ...]}
"""

from __future__ import annotations

import json
import os
import sys


def main(spec_path: str) -> int:
    os.environ.setdefault("SE_OFFLINE", "true")
    from bench.engine import plain_selenium
    from executions.runner.browser import BrowserConfig, browser_start

    with open(spec_path) as spec_file:
        spec = json.load(spec_file)
    browser = browser_start(BrowserConfig())
    try:
        for steps in spec["cases"]:
            plain_selenium(browser.driver, spec["base_url"], steps)
    finally:
        browser.quit()
    print(f"{len(spec['cases'])} case(s) passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
