#!/usr/bin/env python3
"""Turns every ```cpp listing of README.md into a translation unit, so the build proves that
the README's listings compile as printed (tests/CMakeLists.txt compiles them).

    extract_listings.py README.md OUTPUT_DIR

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

Writes listing_<line>.cpp per file (line = the fence's line in README.md) and removes stale ones.
"""
import pathlib
import re
import sys

MARKER = re.compile(r"<!--\s*listing:\s*(.*?)\s*-->")


def listings(readme):
    """Yields (fence line number, marker text or '', code) for every ```cpp block."""
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
                sys.exit(f"README.md:{start + 1}: the ```cpp listing is not closed")
            yield start + 1, marker.group(1) if marker else "", "\n".join(body) + "\n"
        i += 1


def main():
    readme_path, out_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    (out_dir / "redis").mkdir(parents=True, exist_ok=True)
    files = {}  # file name -> text
    previous = None  # the file of the last namespace-scope listing
    for line, marker, code in listings(readme_path.read_text()):
        origin = f"// README.md:{line}, compiled by tests/CMakeLists.txt (readme listings)\n"
        if marker.startswith("not compiled") or marker.startswith("examples/"):
            continue
        if "int main(" in code:
            name = f"listing_{line}.cpp"
            files[name] = origin + code
        elif marker.startswith("namespace"):
            if "continues" in marker:
                if previous is None:
                    sys.exit(f"README.md:{line}: a listing that continues needs a namespace "
                             "listing before it")
                files[previous] += origin + code
                continue
            name = f"listing_{line}.cpp"
            files[name] = '#include "fixture.hpp"\n' + origin + code
            previous = name
        elif marker == "redis":
            name = f"redis/listing_{line}.cpp"
            files[name] = ('#include "fixture.hpp"\n#include <sweet_async/redis.hpp>\n' + origin +
                           code)
        elif marker == "":
            name = f"listing_{line}.cpp"
            files[name] = ('#include "fixture.hpp"\n' + origin +
                           f"[[maybe_unused]] void listing_{line}() {{\n" + code + "}\n")
        else:
            sys.exit(f"README.md:{line}: unknown listing marker '{marker}'")
    for stale in [*out_dir.glob("listing_*.cpp"), *out_dir.glob("redis/listing_*.cpp")]:
        if str(stale.relative_to(out_dir)) not in files:
            stale.unlink()
    for name, text in files.items():
        path = out_dir / name
        if not path.exists() or path.read_text() != text:  # unchanged files are not rebuilt
            path.write_text(text)


if __name__ == "__main__":
    main()
