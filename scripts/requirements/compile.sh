#!/usr/bin/env bash
# Regenerates the pinned, hashed requirement files from their .in files, after a version in
# an .in file changed:   scripts/requirements/compile.sh
# pip-tools resolves every dependency for this Python (3.11, Linux, as on CI) and writes each
# distribution's sha256; scripts/venv.sh installs them with `pip install --require-hashes
# --no-deps`, so a package that changed on the index since is refused. Extras are stripped
# (their packages are listed on their own): hash-checking mode cannot follow a dependency that
# asks for a pinned package with extras.
set -euo pipefail
cd "$(dirname "$0")"
PIP_TOOLS_VERSION=7.6.2
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/pip" install --quiet --disable-pip-version-check "pip-tools==$PIP_TOOLS_VERSION"
for input in *.in; do
  CUSTOM_COMPILE_COMMAND="scripts/requirements/compile.sh" \
    "$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links --output-file "${input%.in}.txt" "$input"
done
