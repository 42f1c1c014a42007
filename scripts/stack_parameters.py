#!/usr/bin/env python3
"""Prints the stack parameters of infra/samconfig.toml, one Key=Value a line, for both
`sam build` and `sam deploy`: the one place they read them from. ARCHITECTURE in the
environment replaces the Architecture parameter for both.

  stack_parameters.py CONFIG            the parameters
  stack_parameters.py CONFIG --get KEY  one value
  stack_parameters.py CONFIG --check    exit 1 naming each value still marked REPLACE
"""
import os
import sys
import tomllib


def parameters(path):
    with open(path, "rb") as f:
        config = tomllib.load(f)
    raw = config["default"]["global"]["parameters"]["parameter_overrides"]
    items = raw if isinstance(raw, list) else raw.split()
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"{path}: parameter_overrides entry {item!r} is not Key=Value")
        pairs.append((key, value))
    arch = os.environ.get("ARCHITECTURE")
    if arch:
        if arch not in ("arm64", "x86_64"):
            sys.exit(f"ARCHITECTURE={arch!r}: use arm64 or x86_64")
        pairs = [(k, v) for k, v in pairs if k != "Architecture"] + [("Architecture", arch)]
    return pairs


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pairs = parameters(sys.argv[1])
    if sys.argv[2:3] == ["--get"]:
        wanted = sys.argv[3]
        for key, value in pairs:
            if key == wanted:
                print(value)
                return
        sys.exit(f"{sys.argv[1]}: no parameter {wanted}")
    if sys.argv[2:3] == ["--check"]:
        left = [key for key, value in pairs if value.startswith("REPLACE")]
        if left:
            sys.exit(f"{sys.argv[1]}: set these parameters first: {', '.join(left)}")
        return
    for key, value in pairs:
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
