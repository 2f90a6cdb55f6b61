#!/usr/bin/env python3
"""Turns every ```cpp listing of the documentation (README.md, docs/**/*.md,
integrations/redis/README.md) into a translation unit, so the build proves that the listings
compile as printed (tests/CMakeLists.txt compiles them), and checks that every listing marked as
an example is that example, byte for byte (examples/CMakeLists.txt runs the check).

    extract_listings.py OUTPUT_DIR PAGE...              writes the translation units
    extract_listings.py --check-examples [--stamp FILE] PAGE...
                                                        compares the example listings with
                                                        their files; on a mismatch prints a
                                                        unified diff and exits 1; otherwise
                                                        touches FILE

A listing with `int main(` is a whole program and is compiled as it is. Any other listing is a
fragment: it is compiled after `fixture.hpp` (the names fragments take for granted: `io`,
`pool`, a processor `f`, ...), inside a function body by default. An HTML comment on the line
before the fence says otherwise:

    <!-- listing: namespace -->             declarations: compiled at namespace scope
    <!-- listing: namespace, continues -->  the same, in the previous namespace listing's file
    <!-- listing: not compiled (why) -->    an excerpt of a declaration, shown for reading
    <!-- listing: examples/<file>.cpp -->    the example itself: the examples build compiles it
                                            and checks that the two are the same, byte for byte
    <!-- listing: redis -->                 declarations using sweet_async::redis: written to
                                            OUTPUT_DIR/redis/, compiled when that target is built

A page's listings are read in its order, and a listing that continues one continues the previous
namespace listing of the same page. Writes listing_<page>_<line>.cpp per translation unit (page =
the page's path from the repository root, `.md` dropped and `/` made `_`, e.g. listing_README_42.cpp,
listing_docs_flows_120.cpp; line = the fence's line in the page), whose first lines name the page
and line, and removes stale ones. An example listing's file is named relative to the repository
root (examples/<file>.cpp, examples/redis/<file>.cpp).
"""
import difflib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the repository: tests/readme/../..

MARKER = re.compile(r"<!--\s*listing:\s*(.*?)\s*-->")


def page_name(path):
    """The page's path from the repository root ('docs/flows.md'), or as given outside it."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def listings(readme, page):
    """Yields (fence line number, marker text or '', code) for every ```cpp block of `page`."""
    lines = readme.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```cpp":
            marker = MARKER.search(lines[i - 1]) if i > 0 else None
            start = i
            i += 1
            body = []
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            if i == len(lines):
                sys.exit(f"{page}:{start + 1}: the ```cpp listing is not closed")
            yield start + 1, marker.group(1) if marker else "", "\n".join(body) + "\n"
        i += 1


def extract(page_path, files):
    """Adds the translation units of one page's listings to `files` (file name -> text)."""
    page = page_name(page_path)
    stem = "listing_" + re.sub(r"[^A-Za-z0-9]+", "_", page.removesuffix(".md"))
    previous = None  # the file of the page's last namespace-scope listing
    for line, marker, code in listings(page_path.read_text(), page):
        origin = f"// {page}:{line}, compiled by tests/CMakeLists.txt (documentation listings)\n"
        name = f"{stem}_{line}.cpp"
        if marker.startswith("not compiled") or marker.startswith("examples/"):
            continue
        if "int main(" in code:
            files[name] = origin + code
        elif marker.startswith("namespace"):
            if "continues" in marker:
                if previous is None:
                    sys.exit(f"{page}:{line}: a listing that continues needs a namespace "
                             "listing before it on the same page")
                files[previous] += origin + code
                continue
            files[name] = '#include "fixture.hpp"\n' + origin + code
            previous = name
        elif marker == "redis":
            files["redis/" + name] = ('#include "fixture.hpp"\n#include <sweet_async/redis.hpp>\n' +
                                      origin + code)
        elif marker == "":
            files[name] = ('#include "fixture.hpp"\n' + origin +
                           f"[[maybe_unused]] void {name[:-4]}() {{\n" + code + "}\n")
        else:
            sys.exit(f"{page}:{line}: unknown listing marker '{marker}'")


def check_examples(pages):
    """Compares every listing marked examples/<file>.cpp with that file; returns the problems."""
    problems = []
    for page_path in pages:
        page = page_name(page_path)
        for line, marker, code in listings(page_path.read_text(), page):
            if not marker.startswith("examples/"):
                continue
            example = ROOT / marker
            if not example.is_file():
                problems.append(f"{page}:{line}: the listing names {marker}, which does not exist\n")
                continue
            text = example.read_text()
            if text != code:
                diff = difflib.unified_diff(code.splitlines(keepends=True),
                                            text.splitlines(keepends=True),
                                            fromfile=f"{page}:{line} (the listing)", tofile=marker)
                problems.append(f"{page}:{line}: the listing differs from {marker}; they must be "
                                "byte-identical (copy the file into the page):\n" +
                                "".join(diff))
    return problems


def main():
    args = sys.argv[1:]
    if args and args[0] == "--check-examples":
        args = args[1:]
        stamp = None
        if args[:1] == ["--stamp"]:
            stamp, args = pathlib.Path(args[1]), args[2:]
        if stamp is not None and stamp.exists():
            stamp.unlink()
        problems = check_examples([pathlib.Path(p) for p in args])
        if problems:
            sys.stderr.write("error: " + "\nerror: ".join(problems))
            sys.exit(1)
        if stamp is not None:
            stamp.touch()
        return
    if len(args) < 2:
        sys.exit("usage: extract_listings.py OUTPUT_DIR PAGE... | --check-examples [--stamp FILE] "
                 "PAGE...")
    out_dir = pathlib.Path(args[0])
    (out_dir / "redis").mkdir(parents=True, exist_ok=True)
    files = {}  # file name -> text
    for page in args[1:]:
        extract(pathlib.Path(page), files)
    for stale in [*out_dir.glob("listing_*.cpp"), *out_dir.glob("redis/listing_*.cpp")]:
        if stale.relative_to(out_dir).as_posix() not in files:
            stale.unlink()
    for name, text in files.items():
        path = out_dir / name
        if not path.exists() or path.read_text() != text:  # unchanged files are not rebuilt
            path.write_text(text)


if __name__ == "__main__":
    main()
