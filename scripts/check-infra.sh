#!/usr/bin/env bash
# Checks infra/template.yaml offline: cfn-lint, then `sam validate --lint` with the project's
# samconfig (both installed into virtualenvs on first use; neither needs AWS credentials).
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_REQUIREMENT='cfn-lint==1.58.0'
if ! .venv/bin/cfn-lint --version >/dev/null 2>&1; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "$CFN_LINT_REQUIREMENT"
fi
.venv/bin/cfn-lint infra/template.yaml
echo "infra/template.yaml: cfn-lint clean"
./scripts/stack.sh validate
