#!/usr/bin/env bash
# Checks infra/ offline: cfn-lint (informational checks included), `sam validate --lint` with
# the project's samconfig, the template as SAM transforms it for CloudFormation (no circular
# dependency), checkov, which must find nothing that is not skipped in the template beside the
# resource, with its reason, and infra/openapi.yaml against the OpenAPI 3.1 specification
# (tests/tests/openapi.rs then checks it against the routes served). Each tool is installed
# into a virtualenv on first use, pinned with hashes (scripts/requirements/); none needs AWS
# credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

ensure_venv .venv scripts/requirements/test-tools.txt
.venv/bin/cfn-lint --include-checks I -- infra/template.yaml
echo "infra/template.yaml: cfn-lint clean (informational checks included)"

./scripts/stack.sh validate

# What CloudFormation itself receives: the template after SAM's transform, which adds edges no
# linter of the source sees (an HttpApi event makes the API depend on its function, a
# FunctionUrlConfig makes <Function>Url depend on it). A circle among them is refused at
# deploy time (E3004), so the translated template is checked for each UnipileEndpoint. The
# translator is the SAM CLI's own (.venv-deploy, installed by the validate above); CodeUri
# stands for the S3 location `sam deploy` uploads to, and no AWS call is made.
ensure_venv .venv-deploy scripts/requirements/deploy.txt
translated=$(mktemp -d)
trap 'rm -rf "$translated"' EXIT
for endpoint in HttpApi FunctionUrl; do
  AWS_DEFAULT_REGION=us-east-1 .venv-deploy/bin/python - infra/template.yaml "$endpoint" \
    >"$translated/$endpoint.json" <<'PY'
import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    # The functions name their own roles: a managed policy name would fail the transform.
    def load(self):
        return {}


with open(sys.argv[1]) as f:
    template = yaml_parse(f.read())
for resource in template["Resources"].values():
    if resource.get("Type") == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://deploy-bucket/function.zip"
json.dump(transform(template, {"UnipileEndpoint": sys.argv[2]}, NoManagedPolicies()), sys.stdout)
PY
  .venv/bin/cfn-lint --ignore-checks E W I --mandatory-checks E3004 -- "$translated/$endpoint.json"
done
echo "infra/template.yaml: no circular dependency once SAM transforms it (UnipileEndpoint=HttpApi, FunctionUrl)"

# checkov pins its own dependencies: a virtualenv of its own.
ensure_venv .venv-checkov scripts/requirements/checkov.txt
.venv-checkov/bin/checkov -f infra/template.yaml --framework cloudformation --compact --quiet \
  --skip-download
echo "infra/template.yaml: checkov clean (every skip is explained beside its resource)"

.venv/bin/openapi-spec-validator infra/openapi.yaml
echo "infra/openapi.yaml: a valid OpenAPI document"
