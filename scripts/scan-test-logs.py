#!/usr/bin/env python3
"""Reads every log line the test run wrote and fails if one carries a secret.

`scripts/test.sh` runs it once `cargo test` is over, on:
- the test processes' logs (`TEST_LOG_DIR`, one JSON-lines file per process: every event at
  every level, see tests/src/logs.rs), and
- the deploy rehearsal's function logs (the release bootstraps' stdout and stderr) written
  during this run (newer than the run's start marker).

A secret is any of the test run's own keys and secrets (their values are in the test code),
and anything shaped like one whatever its value: a LinkedIn session cookie, a signed state
token, a JWT, a bearer credential, a webhook signing secret.

Usage: scan-test-logs.py [--require-lines] LOG_DIR [REHEARSAL_DIR --newer MARKER]

With --require-lines (a whole run), finding no log line at all is a failure: the capture
itself broke, and a scan of nothing would pass.
"""

import re
import sys
from pathlib import Path

# The fixed secrets of the test run: tests/src/world.rs, local/src (simulator key, local
# webhook secret, local JWT secret), tests/tests/hostile_requests (its state key). Every other
# test secret (passwords, checkpoint codes) is named "...never-logged..." or
# "...never_logged...". The phone number custom sign-ins are tested with (TEST_PHONE in
# tests/src) is a credential too, in any writing.
LITERALS = [
    "33612345678",
    "6 12 34 56 78",
    "612-345-678",
    "never-logged",
    "never_logged",
    "local-simulator-key",
    "local-webhook-secret",
    "local-stack-jwt-secret-not-for-production",
    "hostile-requests-state-signing-key",
]

SHAPES = {
    # LinkedIn's li_at and li_a cookies start so; every test cookie does too.
    "a LinkedIn cookie": re.compile(r"AQEDA[A-Za-z0-9_-]{3,}"),
    # shared/src/domain/state_token.rs: v2.<payload>.<mac>.
    "a signed state token": re.compile(r"\bv2\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    "a JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    "a bearer credential": re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]{16,}"),
    # The team's webhook signing secrets (Standard Webhooks), whatever key they hold.
    "a webhook signing secret": re.compile(r"whsec_[A-Za-z0-9+/]{16,}"),
}


def findings(line):
    for literal in LITERALS:
        if literal in line:
            yield f"the secret {literal!r}"
    for name, shape in SHAPES.items():
        if shape.search(line):
            yield name


def main(argv):
    require_lines = "--require-lines" in argv
    argv = [a for a in argv if a != "--require-lines"]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    files = sorted(Path(argv[0]).glob("*.jsonl"))
    if len(argv) >= 4 and argv[2] == "--newer":
        marker = Path(argv[3]).stat().st_mtime
        files += sorted(p for p in Path(argv[1]).glob("**/*.log") if p.stat().st_mtime >= marker)
    lines = 0
    leaks = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as text:
            for number, line in enumerate(text, 1):
                lines += 1
                for what in findings(line):
                    leaks.append(f"{path}:{number}: {what}: {line.strip()[:300]}")
    if leaks:
        print(f"log scan: {len(leaks)} secret(s) in {lines} log lines of {len(files)} files:")
        for leak in leaks[:50]:
            print("  " + leak)
        return 1
    if lines == 0:
        if require_lines:
            print("log scan: no log line was captured in a whole run: the capture is broken")
            return 1
        print("log scan: no log line to read (no test that logs ran)")
        return 0
    print(f"log scan: {lines} log lines of {len(files)} files, no secret")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
