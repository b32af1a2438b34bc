#!/usr/bin/env bash
# Install Selenium IDE's command-line runner (selenium-side-runner, the peer the benchmarks compare
# us with) from the npm registry, exactly as pinned by bench/side-runner/package-lock.json, into
# node_modules/.side-runner (npm leaves dot-directories of node_modules alone, so installing other
# packages never prunes it). It drives the system Chromium through the system chromedriver:
# Selenium Manager runs offline (SE_OFFLINE=true) and must find /usr/bin/chromedriver on PATH;
# nothing is downloaded when it runs. Prints the runner's path.
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=bench/side-runner
target=${SIDE_RUNNER_DIR:-node_modules/.side-runner}
runner="$target/node_modules/selenium-side-runner/dist/bin.js"
stamp="$target/.installed-lock.sha256"
wanted=$(sha256sum "$source_dir/package-lock.json" | cut -d' ' -f1)

if ! [ -f "$runner" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  if ! command -v npm >/dev/null; then
    echo "error: npm is needed to install selenium-side-runner (apt-get install -y npm)" >&2
    exit 1
  fi
  mkdir -p "$target"
  cp "$source_dir/package.json" "$source_dir/package-lock.json" "$target/"
  # npm ci: exactly the locked versions, or fail.
  (cd "$target" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$wanted" >"$stamp"
fi

# Which driver the runner will start: Selenium Manager, offline, must answer the system one.
manager="$target/node_modules/selenium-webdriver/bin/linux/selenium-manager"
driver=$(SE_OFFLINE=true SE_CACHE_PATH="$target/.selenium-cache" "$manager" --browser chrome \
  --browser-path /usr/bin/chromium --language-binding javascript --output json \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["result"]["driver_path"])')
if [ "$driver" != /usr/bin/chromedriver ]; then
  echo "error: selenium-side-runner would use $driver, not /usr/bin/chromedriver" >&2
  exit 1
fi
echo "$PWD/$runner"
