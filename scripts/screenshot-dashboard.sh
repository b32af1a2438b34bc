#!/usr/bin/env bash
# Retake docs/screenshots/dashboard.png and case-history.png: the reports' browser test drives
# the admin in headless Chromium against seeded history and keeps what it saw.
# Needs PostgreSQL and Redis like `make test`; pass TEST_DATABASE_URL / TEST_REDIS_URL to choose.
set -euo pipefail
cd "$(dirname "$0")/.."
export REPORTS_SCREENSHOT_DIR="$PWD/docs/screenshots"
make test PYTEST_ARGS="-q reports/tests/test_dashboard_browser.py" "$@"
ls -l "$REPORTS_SCREENSHOT_DIR"
