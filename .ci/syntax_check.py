#!/usr/bin/env python3
"""Compiles a build tree's sources again with another compiler, front end only.

Reads BUILD_DIR/compile_commands.json, keeps the commands of the sources under the given folders
(examples/ and bench/ by default), and runs each with CXX in place of the tree's compiler,
`-fsyntax-only` instead of an object file, and EXTRA_FLAGS at the end (later flags win: another
`-std=`, `-I` of other Asio or {fmt} releases). Clang instantiates every template it parses, so
this proves that the sources compile, warnings-clean under the tree's -Werror, with that compiler
and those dependencies, at a fraction of a full build's cost: no code is generated.

--precompile HEADER parses HEADER once per set of flags, into a precompiled header every source
with those flags starts from (half of an example's front-end time is the umbrella header). Each
source's own #includes are proven by the tree's build, which uses no precompiled header.

Usage: .ci/syntax_check.py [--under DIR ...] [--precompile HEADER] BUILD_DIR CXX [-- EXTRA_FLAGS...]
"""

import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("cxx")
    parser.add_argument("--under", action="append",
                        help="a folder of the source tree whose files to check (repeatable; "
                             "default: examples and bench)")
    parser.add_argument("--precompile", metavar="HEADER",
                        help="a header (as #include <HEADER> names it) every source starts from, "
                             "precompiled once per set of flags")
    parser.add_argument("extra", nargs="*", help="flags added to every command (after --)")
    args = parser.parse_args()
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    folders = [os.path.join(repo, d) + os.sep for d in (args.under or ["examples", "bench"])]

    with open(os.path.join(args.build_dir, "compile_commands.json")) as f:
        entries = json.load(f)
    commands = []
    for entry in entries:
        source = os.path.abspath(os.path.join(entry["directory"], entry["file"]))
        if not source.startswith(tuple(folders)):
            continue
        argv = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
        flags = []
        skip = False
        for arg in argv[1:]:
            if skip:
                skip = False
            elif arg == "-o":
                skip = True
            elif arg != "-c" and os.path.abspath(os.path.join(entry["directory"], arg)) != source:
                flags.append(arg)
        # GCC-only warning options of the tree are unknown to Clang, not errors in the code.
        flags += ["-Wno-unknown-warning-option"] + args.extra
        commands.append((source, entry["directory"], flags))
    if not commands:
        sys.exit(f"no source under {', '.join(folders)} in {args.build_dir}/compile_commands.json")

    scratch = tempfile.TemporaryDirectory(prefix="syntax_check-")
    precompiled = {}  # (directory, flags) -> the -include-pch file built with exactly those flags
    if args.precompile:
        header = os.path.join(scratch.name, "precompiled.hpp")
        with open(header, "w") as f:
            f.write(f"#include <{args.precompile}>\n")
        for _, directory, flags in commands:
            key = (directory, tuple(flags))
            if key not in precompiled:
                precompiled[key] = os.path.join(scratch.name, f"precompiled-{len(precompiled)}.pch")

        def precompile(item):
            (directory, flags), pch = item
            argv = [args.cxx, *flags, "-x", "c++-header", header, "-o", pch]
            return argv, subprocess.run(argv, cwd=directory, capture_output=True, text=True)

        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            for argv, result in pool.map(precompile, precompiled.items()):
                if result.returncode != 0:
                    sys.exit(f"--- <{args.precompile}> does not precompile with "
                             f"{shlex.join(argv)}\n{result.stdout}{result.stderr}")

    def run(command):
        source, directory, flags = command
        pch = precompiled.get((directory, tuple(flags)))
        argv = [args.cxx] + flags + (["-include-pch", pch] if pch else []) + ["-fsyntax-only", source]
        result = subprocess.run(argv, cwd=directory, capture_output=True, text=True)
        return source, result.returncode, result.stdout + result.stderr

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for source, code, output in pool.map(run, commands):
            if code != 0:
                failed += 1
                print(f"--- {os.path.relpath(source, repo)}: failed\n{output}")
    print(f"syntax_check: {len(commands) - failed} of {len(commands)} sources compile with "
          f"{args.cxx} {' '.join(args.extra)}"
          + (f" ({len(precompiled)} precompiled <{args.precompile}>)" if precompiled else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
