#!/usr/bin/env bash
# Runs every test of the workspace. The integration tests need moto server (the AWS
# emulator); it is installed into .venv on first use and the tests start it themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_REQUIREMENT='moto[server]==5.2.5'
if ! .venv/bin/python -c 'import moto.server' >/dev/null 2>&1; then
  echo "installing $MOTO_REQUIREMENT into .venv (once)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "$MOTO_REQUIREMENT"
fi
export MOTO_SERVER="$PWD/.venv/bin/moto_server"

exec cargo test --workspace --locked "$@"
