#!/usr/bin/env python3
"""Checks that every relative link in the repository's Markdown files resolves: the file or
folder it names exists, and its #anchor is a heading of that file (GitHub's anchors).

  scripts/check-links.py [FILE.md ...]     (default: every Markdown file git tracks)

Prints each broken link as FILE:LINE: TARGET (why) and exits 1 when there is one.
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def lines_outside_code(text):
    """(line number, line) of every line outside fenced code blocks, inline code removed."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        yield number, re.sub(r"`[^`]*`", "", line)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading)                   # inline HTML
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)     # links keep their text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        found, seen = set(), {}
        fence = None
        for line in path.read_text().split("\n"):
            stripped = line.lstrip()
            if fence is None and stripped.startswith(("```", "~~~")):
                fence = stripped[:3]
                continue
            if fence is not None:
                if stripped.startswith(fence):
                    fence = None
                continue
            heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if heading:
                base = slug(heading.group(1))
                count = seen.get(base, 0)
                seen[base] = count + 1
                found.add(base if count == 0 else f"{base}-{count}")
        cache[path] = found
    return cache[path]


def markdown_files():
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.split()
    return [ROOT / name for name in listed]


def main():
    files = [Path(name).resolve() for name in sys.argv[1:]] or markdown_files()
    broken = 0
    for file in files:
        for number, line in lines_outside_code(file.read_text()):
            for target in LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                    continue  # https:, mailto:, ...
                name, _, anchor = target.partition("#")
                linked = (file.parent / name).resolve() if name else file
                why = None
                if not linked.exists():
                    why = "no such file"
                elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                    why = f"no heading #{anchor} in {linked.relative_to(ROOT)}"
                if why:
                    broken += 1
                    print(f"{file.relative_to(ROOT)}:{number}: {target} ({why})")
    checked = ", ".join(str(f.relative_to(ROOT)) for f in files)
    print(f"{broken} broken link(s) in {checked}" if broken else f"every relative link resolves ({len(files)} files)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
