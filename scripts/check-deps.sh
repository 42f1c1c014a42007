#!/usr/bin/env bash
# Holds the dependency trees (the workspace's and fuzz/'s, each by its Cargo.lock) to
# deny.toml with cargo-deny: licences, bans and sources, offline.
#
#   scripts/check-deps.sh               licences, bans and sources (what CI runs)
#   scripts/check-deps.sh advisories    the RustSec advisories: needs the internet to fetch
#                                       the database (docs/deploy.md, Releasing)
#
# cargo-deny is built once from crates.io, at a pinned version with its own Cargo.lock
# (about 3 minutes on 2 cores), and kept in ~/.cargo/bin like cargo-fuzz: later runs find it
# there. A prebuilt wheel exists on PyPI, but its publisher cannot be verified from a machine
# without the internet, and a supply-chain check is the last tool to take on trust.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $CARGO_DENY_VERSION"; then
  echo "installing cargo-deny $CARGO_DENY_VERSION (once)"
  cargo install --quiet --locked cargo-deny --version "$CARGO_DENY_VERSION"
fi

checks=("$@")
[ "${#checks[@]}" -gt 0 ] || checks=(licenses bans sources)
for manifest in Cargo.toml fuzz/Cargo.toml; do
  echo "== cargo deny check ${checks[*]} ($manifest)"
  # Two versions of one crate are warnings: their inclusion graphs would fill the log.
  cargo deny --locked --manifest-path "$manifest" --config deny.toml \
    check --hide-inclusion-graph "${checks[@]}"
done
