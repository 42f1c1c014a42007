#!/usr/bin/env bash
# Builds, checks, deploys and deletes the stack, unattended (no prompt, no terminal needed).
#
#   scripts/stack.sh tools      install aws-sam-cli and cargo-lambda (with Zig) into .venv-deploy
#   scripts/stack.sh build      sam build: one release bootstrap per function, for Architecture
#   scripts/stack.sh validate   sam validate --lint
#   scripts/stack.sh deploy     sam deploy with infra/samconfig.toml's parameters
#   scripts/stack.sh delete     sam delete (the webhook registration goes with the stack)
#   scripts/stack.sh dead-letters list|replay|drain [--limit N]
#                               the reconnect attempts that failed every try (see docs/operations.md,
#                               "Dead letters"), run with reconnect-retry's own environment
#   scripts/stack.sh event-dead-letters list|replay|drain [--limit N]
#                               the lifecycle events your webhook endpoint refused on every
#                               try (docs/events.md, "Your backend"), with events-webhook's environment
#
# Parameters live in infra/samconfig.toml; build and deploy both read them from there.
# ARCHITECTURE=arm64|x86_64 overrides the Architecture parameter for both.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

TOOLS=.venv-deploy
CONFIG="$PWD/infra/samconfig.toml"

tools() {
  # aws-sam-cli and cargo-lambda, pinned with hashes (scripts/requirements/deploy.txt).
  ensure_venv "$TOOLS" scripts/requirements/deploy.txt
  # cargo-lambda, and the Zig it links with, come from the venv.
  export PATH="$PWD/$TOOLS/bin:$PATH"
  export SAM_CLI_TELEMETRY=0 SAM_CLI_BETA_RUST_CARGO_LAMBDA=1
}

parameters() {
  mapfile -t PARAMETERS < <(python3 scripts/stack_parameters.py "$CONFIG")
  ARCH=$(python3 scripts/stack_parameters.py "$CONFIG" --get Architecture)
}

# The bootstraps must be built for the architecture the functions declare, or they fail at start.
check_artifacts() {
  python3 scripts/check_artifacts.py .aws-sam/build "$ARCH"
}

cmd=${1:-}
case "$cmd" in
  tools)
    tools
    sam --version
    cargo lambda --version
    ;;
  build)
    tools
    parameters
    if [ "$ARCH" = arm64 ] && ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
      echo "Architecture is arm64 but the aarch64 standard library is not installed." >&2
      echo "Run 'rustup target add aarch64-unknown-linux-gnu', or build for x86_64:" >&2
      echo "ARCHITECTURE=x86_64 scripts/stack.sh build (and deploy), or set it in infra/samconfig.toml." >&2
      exit 1
    fi
    # One cargo invocation for every function first: cargo links the binaries side by side
    # (sam build runs them one at a time, and fat LTO keeps each link on one core); the
    # per-function builds sam then runs find them up to date.
    if [ "$ARCH" = arm64 ]; then cargo lambda build --release --arm64; else cargo lambda build --release; fi
    sam build --config-file "$CONFIG" -t infra/template.yaml --parameter-overrides "${PARAMETERS[@]}"
    check_artifacts
    ;;
  validate)
    tools
    sam validate --config-file "$CONFIG" -t infra/template.yaml --lint --region "${AWS_REGION:-us-east-1}"
    ;;
  deploy)
    tools
    parameters
    python3 scripts/stack_parameters.py "$CONFIG" --check
    [ -f .aws-sam/build/template.yaml ] || { echo "nothing built: run scripts/stack.sh build first" >&2; exit 1; }
    check_artifacts
    sam deploy --config-file "$CONFIG" -t .aws-sam/build/template.yaml --parameter-overrides "${PARAMETERS[@]}" "${@:2}"
    ;;
  delete)
    tools
    sam delete --config-file "$CONFIG" "${@:2}"
    ;;
  dead-letters)
    tools
    # The deployed function's environment and the queue's URL, from the stack itself; the
    # binary is the function's own, built for this machine.
    mapfile -t FUNCTION_ENV < <("$TOOLS/bin/python" scripts/function_env.py "$CONFIG" ReconnectRetryFunction)
    [ "${#FUNCTION_ENV[@]}" -gt 0 ] || { echo "could not read the stack (see above)" >&2; exit 1; }
    cargo build --release --quiet -p reconnect-retry
    env "${FUNCTION_ENV[@]}" "${CARGO_TARGET_DIR:-target}/release/reconnect-retry" "$@"
    ;;
  event-dead-letters)
    tools
    mapfile -t FUNCTION_ENV < <("$TOOLS/bin/python" scripts/function_env.py "$CONFIG" EventsWebhookFunction)
    [ "${#FUNCTION_ENV[@]}" -gt 0 ] || { echo "could not read the stack (is EventsWebhookUrl set?)" >&2; exit 1; }
    cargo build --release --quiet -p events-webhook
    env "${FUNCTION_ENV[@]}" "${CARGO_TARGET_DIR:-target}/release/events-webhook" dead-letters "${@:2}"
    ;;
  *)
    sed -n '2,18p' "$0" >&2
    exit 2
    ;;
esac
