#!/usr/bin/env bash
# Checks infra/ offline: cfn-lint (informational checks included), `sam validate --lint` with
# the project's samconfig, checkov, which must find nothing that is not skipped in the
# template beside the resource, with its reason, and infra/openapi.yaml against the OpenAPI
# 3.1 specification (tests/tests/openapi.rs then checks it against the routes served). Each tool is installed into a
# virtualenv on first use; none needs AWS credentials.
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_REQUIREMENT='cfn-lint==1.58.0'
CHECKOV_REQUIREMENT='checkov==3.3.30'
OPENAPI_VALIDATOR_REQUIREMENT='openapi-spec-validator==0.9.0'
if ! .venv/bin/cfn-lint --version >/dev/null 2>&1 || ! .venv/bin/openapi-spec-validator --help >/dev/null 2>&1; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "$CFN_LINT_REQUIREMENT" "$OPENAPI_VALIDATOR_REQUIREMENT"
fi
.venv/bin/cfn-lint --include-checks I -- infra/template.yaml
echo "infra/template.yaml: cfn-lint clean (informational checks included)"

./scripts/stack.sh validate

# checkov pins its own dependencies: a virtualenv of its own.
if ! .venv-checkov/bin/checkov --version >/dev/null 2>&1; then
  echo "installing $CHECKOV_REQUIREMENT into .venv-checkov (once)"
  python3 -m venv .venv-checkov
  .venv-checkov/bin/pip install --quiet --disable-pip-version-check "$CHECKOV_REQUIREMENT"
fi
.venv-checkov/bin/checkov -f infra/template.yaml --framework cloudformation --compact --quiet \
  --skip-download
echo "infra/template.yaml: checkov clean (every skip is explained beside its resource)"

.venv/bin/openapi-spec-validator infra/openapi.yaml
echo "infra/openapi.yaml: a valid OpenAPI document"
