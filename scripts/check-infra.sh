#!/usr/bin/env bash
# Checks infra/ offline: cfn-lint (informational checks included), `sam validate --lint` with
# the project's samconfig, checkov, which must find nothing that is not skipped in the
# template beside the resource, with its reason, and infra/openapi.yaml against the OpenAPI
# 3.1 specification (tests/tests/openapi.rs then checks it against the routes served). Each tool is installed into a
# virtualenv on first use, pinned with hashes (scripts/requirements/); none needs AWS credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

ensure_venv .venv scripts/requirements/test-tools.txt
.venv/bin/cfn-lint --include-checks I -- infra/template.yaml
echo "infra/template.yaml: cfn-lint clean (informational checks included)"

./scripts/stack.sh validate

# checkov pins its own dependencies: a virtualenv of its own.
ensure_venv .venv-checkov scripts/requirements/checkov.txt
.venv-checkov/bin/checkov -f infra/template.yaml --framework cloudformation --compact --quiet \
  --skip-download
echo "infra/template.yaml: checkov clean (every skip is explained beside its resource)"

.venv/bin/openapi-spec-validator infra/openapi.yaml
echo "infra/openapi.yaml: a valid OpenAPI document"
