#!/usr/bin/env bash
# Runs every test of the workspace, including the deploy rehearsal, which runs the release
# bootstraps that `scripts/stack.sh build` makes (built here for this machine's architecture;
# later runs rebuild only what changed). moto server, the AWS emulator, is installed into
# .venv on first use (scripts/requirements/test-tools.txt, pinned with hashes); the tests
# start it themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

ensure_venv .venv scripts/requirements/test-tools.txt
export MOTO_SERVER="$PWD/.venv/bin/moto_server"

case "$(uname -m)" in
  aarch64 | arm64) host=arm64 ;;
  *) host=x86_64 ;;
esac
echo "== building the stack's release bootstraps ($host) for the deploy rehearsal"
ARCHITECTURE=$host ./scripts/stack.sh build
export REHEARSAL_REQUIRED=1

# The browser stories (tests/tests/browser.rs, tests/tests/extension.rs) drive Debian's
# chromium through chromedriver, and the extension's own unit tests run on node: installed
# here when missing (as root, or through sudo), so this one command is all a fresh machine
# needs. The stories fail, rather than skip, without them.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v node >/dev/null; then
  echo "== installing chromium, chromedriver and node (Debian packages)"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver nodejs
fi
export BROWSER_REQUIRED=1

# Every log line of the run, test processes and rehearsed functions alike, is kept for the
# scan below (tests/src/logs.rs writes one file per test process).
export TEST_LOG_DIR="$PWD/target/test-logs"
rm -rf "$TEST_LOG_DIR"
mkdir -p "$TEST_LOG_DIR"
touch "$TEST_LOG_DIR/started"

# cargo ends on the last crate's doc-tests (often "0 passed"): add up every binary's result
# into one closing line, so the total is what a reader (or CI) sees last.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# A whole run (no filter given) must have captured lines; a filtered one may have none.
whole=()
[ "$#" -eq 0 ] && whole=(--require-lines)
python3 scripts/scan-test-logs.py "${whole[@]}" "$TEST_LOG_DIR" target/rehearsal --newer "$TEST_LOG_DIR/started"
scan=$?
set -e
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1); if ($(i) ~ /^ignored;?$/) s += $(i-1) } }
     END { printf "summary: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
if [ "$status" -eq 0 ] && [ "$scan" -ne 0 ]; then status=$scan; fi
exit "$status"
