#!/usr/bin/env python3
"""Checks a `sam build` output: every function of the built template has a bootstrap, each an
ELF executable for the architecture the stack declares (an x86_64 bootstrap on an arm64
function fails at start, and the reverse).

  check_artifacts.py BUILD_DIR ARCHITECTURE
"""
import os
import re
import sys

ELF_MACHINES = {0x3E: "x86_64", 0xB7: "arm64"}


def machine_of(path):
    with open(path, "rb") as f:
        header = f.read(20)
    if header[:4] != b"\x7fELF":
        sys.exit(f"{path}: not an ELF executable")
    little = header[5] == 1
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little" if little else "big"), "unknown")


def main():
    build_dir, arch = sys.argv[1], sys.argv[2]
    template = os.path.join(build_dir, "template.yaml")
    if not os.path.exists(template):
        sys.exit(f"{template}: nothing built")
    # The built template points each function at its artifact folder (CodeUri: LogicalId).
    with open(template) as f:
        code_uris = re.findall(r"^\s+CodeUri:\s*(\S+)\s*$", f.read(), re.MULTILINE)
    if not code_uris:
        sys.exit(f"{template}: no function artifacts")
    wrong = []
    for uri in code_uris:
        bootstrap = os.path.join(build_dir, uri, "bootstrap")
        if not os.path.exists(bootstrap):
            wrong.append(f"{bootstrap}: missing")
            continue
        built = machine_of(bootstrap)
        if built != arch:
            wrong.append(f"{bootstrap}: built for {built}, the stack declares {arch}")
    if wrong:
        sys.exit("\n".join(wrong))
    print(f"{len(code_uris)} bootstraps, all {arch}")


if __name__ == "__main__":
    main()
