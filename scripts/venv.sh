# Sourced by the scripts that need Python tools. `ensure_venv DIR REQUIREMENTS` makes DIR a
# virtualenv holding exactly what REQUIREMENTS pins, each distribution checked against its
# hash (pip install --require-hashes): a package that changed on the index since the file was
# compiled is refused. The file lists every dependency (scripts/requirements/compile.sh), so
# pip installs the list as it is (--no-deps: hash-checking mode cannot follow a dependency
# that asks for a pinned package with extras) and `pip check` then proves it complete. It
# installs once, and anew (an empty virtualenv first) only when the file changes:
# DIR/requirements.txt keeps the copy it was installed from.
ensure_venv() {
  local dir=$1 requirements=$2
  if [ -x "$dir/bin/python" ] && cmp -s "$requirements" "$dir/requirements.txt"; then
    return 0
  fi
  echo "installing $requirements into $dir"
  python3 -m venv --clear "$dir"
  if ! "$dir/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps \
    -r "$requirements" || ! "$dir/bin/pip" check --disable-pip-version-check >/dev/null; then
    echo "$dir: installing $requirements failed" >&2
    "$dir/bin/pip" check --disable-pip-version-check >&2 || true
    return 1
  fi
  cp "$requirements" "$dir/requirements.txt"
}
