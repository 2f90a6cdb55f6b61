#!/usr/bin/env python3
"""Checks the links of the documentation's pages, which Doxygen does not: every relative link of
README.md, docs/**/*.md and integrations/**/README.md names a file or folder that exists, and a
`#fragment` names a heading of the page it points to (as GitHub makes its anchors: lower case,
punctuation dropped, spaces as hyphens).

Usage: .ci/check_links.py [ROOT]    (ROOT: the repository, default: this script's parent)
Exits 1 and names each broken link (page:line: link: why).
"""

import pathlib
import re
import sys

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*```")


def anchors(page):
    """The anchors GitHub gives the headings of `page` (a repeated heading gets -1, -2, ...)."""
    seen = {}
    result = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_code = not in_code
            continue
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if in_code or not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def links(page):
    """Yields (line number, target) for every markdown link outside code blocks and spans."""
    in_code = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        for match in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            yield number, match.group(1)


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[1])
    root = root.resolve()
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md")),
             *sorted((root / "integrations").glob("*/README.md"))]
    broken = []
    checked = 0
    for page in pages:
        for line, target in links(page):
            if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:: not ours to check
                continue
            checked += 1
            path, _, fragment = target.partition("#")
            destination = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(root)}:{line}: {target}"
            if not destination.exists():
                broken.append(f"{where}: {path} does not exist")
            elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
                broken.append(f"{where}: no heading #{fragment} in {destination.relative_to(root)}")
    for problem in broken:
        print(problem)
    print(f"check_links: {checked} links in {len(pages)} pages, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
