#!/usr/bin/env python3
"""The compile-time benchmark: what a user's file pays to use sweet_async, as ratios.

Each row compiles a subject and its baseline with the same compiler and flags, alternated
(subject first in odd rounds, baseline first in even ones), and keeps the median of the rounds'
wall times and peak memories (GNU time's %e and %M), so that a shared, noisy machine moves both
alike. Rows:

  compile.quickstart.O2     examples/quickstart.cpp against bench/compile/quickstart_by_hand.cpp
                            (the same job by hand on Asio), -O2: wall time and peak memory
  compile.quickstart.O0g    the same pair at -O0 -g
  compile.umbrella          <sweet_async/sweet_async.hpp> alone against <asio.hpp> with
                            <fmt/format.h> alone, -O2
  compile.every_strategy    a task of every strategy and a three-stage flow in one file against
                            quickstart.cpp, -O2 (reported)

Usage: bench/compile_time.py [--cxx CXX] [--rounds N] [--quick] [--json FILE] [--filter S]
                             [-- EXTRA_FLAGS...]
Run from anywhere; EXTRA_FLAGS (e.g. -I of other Asio or {fmt} releases) go to every compile.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPILE_DIR = os.path.join(ROOT, "bench", "compile")


def source(name):
    if name == "quickstart":
        return os.path.join(ROOT, "examples", "quickstart.cpp")
    return os.path.join(COMPILE_DIR, name + ".cpp")


# (row, subject, baseline, flags, figures with their targets: (what, target or None))
ROWS = [
    ("compile.quickstart.O2", "quickstart", "quickstart_by_hand", ["-O2"],
     [("wall", 1.5), ("memory", 1.3)]),
    ("compile.quickstart.O0g", "quickstart", "quickstart_by_hand", ["-O0", "-g"],
     [("wall", 1.5), ("memory", None)]),
    ("compile.umbrella", "umbrella_only", "asio_fmt_only", ["-O2"],
     [("wall", 1.1), ("memory", None)]),
    ("compile.every_strategy", "every_strategy", "quickstart", ["-O2"],
     [("wall", None), ("memory", None)]),
]


def time_compile(cxx, flags, path, output):
    """Compiles `path` to `output`; returns (wall seconds, peak KiB) as GNU time reports them."""
    timing = output + ".time"
    command = ["/usr/bin/time", "-f", "%e %M", "-o", timing, cxx, "-std=c++20", "-I",
               os.path.join(ROOT, "include")] + flags + ["-c", path, "-o", output]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"compile failed: {' '.join(command)}\n{result.stderr[-4000:]}")
    with open(timing) as f:
        wall, kib = f.read().split()[-2:]
    return float(wall), int(kib)


def measure(cxx, flags, subject, baseline, rounds, work):
    """Median wall seconds and peak MiB of subject and baseline over alternated rounds."""
    samples = {subject: [], baseline: []}
    for round_index in range(rounds):
        order = [subject, baseline] if round_index % 2 == 0 else [baseline, subject]
        for name in order:
            samples[name].append(time_compile(cxx, flags, source(name),
                                              os.path.join(work, name + ".o")))
    figures = {}
    for name, runs in samples.items():
        figures[name] = (statistics.median(r[0] for r in runs),
                         statistics.median(r[1] for r in runs) / 1024.0)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one round per row")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--filter", default="", help="only the rows whose name contains this")
    parser.add_argument("extra", nargs="*", help="flags for every compile (after --)")
    args = parser.parse_args()
    if not shutil.which("/usr/bin/time"):
        sys.exit("/usr/bin/time (GNU time) is needed: apt-get install time")
    rounds = 1 if args.quick else args.rounds

    started = time.monotonic()
    report = []
    print(f"{'row':<24} {'figure':<7} {'subject':>12} {'baseline':>12} {'ratio':>6} "
          f"{'target':>7}  met")
    with tempfile.TemporaryDirectory() as work:
        for name, subject, baseline, flags, wanted in ROWS:
            if args.filter not in name:
                continue
            figures = measure(args.cxx, flags + args.extra, subject, baseline, rounds, work)
            for figure, target in wanted:
                index, unit = (0, "s") if figure == "wall" else (1, "MiB")
                ours, theirs = figures[subject][index], figures[baseline][index]
                ratio = ours / theirs
                met = None if target is None else ratio <= target
                print(f"{name:<24} {figure:<7} {ours:>8.2f} {unit:<3} {theirs:>8.2f} {unit:<3} "
                      f"{ratio:>6.2f} {'' if target is None else '<= ' + str(target):>7}  "
                      f"{'reported' if met is None else 'yes' if met else 'no'}")
                report.append({"name": f"{name}.{figure}", "subject": subject,
                               "baseline": baseline, "flags": flags + args.extra,
                               "unit": unit, "subject_value": ours, "baseline_value": theirs,
                               "ratio": ratio, "target": target, "met": met})
            sys.stdout.flush()
    print(f"compiler: {args.cxx}; median of {rounds} alternated rounds; "
          f"{time.monotonic() - started:.0f} s in all")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "sweet_async compile time", "compiler": args.cxx,
                       "rounds": rounds, "rows": report}, f, indent=2)


if __name__ == "__main__":
    main()
