#!/usr/bin/env python3
"""Refuses an #include that runs up the library's layers.

The folders of include/sweet_async/ are layers, from the bottom:

  config.hpp   the compiler and Asio configuration
  base/        the words every layer uses: ids, errors, options, events, outcomes, results,
               formatting and tracing
  channel/     the bounded channel and its machinery (the ring, waiters, overflow, outboxes)
  receiver/    what a strategy drives: the receiver, its read end of the channel, attempts,
               outcomes and the ledger, collectors, the task's control (stop, accounting)
  strategies/  serial, parallel, batched, adaptive, per_key, and the strategy concept
  task/        the emitting task, its sender and builders, its consumer coroutine and launch,
               emitters, stream processors, async_task
  flow/        linked stages: forwarding collectors, flows and their reports
  sweet_async.hpp, the umbrella header, on top

A header may include headers of its own layer and of the layers below it, never above; the
integrations (integrations/*/include/sweet_async/<name>/) sit beside the core and may include
any of it, while the core never includes an integration. A detail/ or impl/ folder belongs to the
layer it is in and holds what users never include.

Usage: .ci/check_layers.py [REPO]   (prints every arrow that runs up; exits 1 if there is one)
"""

import os
import re
import sys

LAYERS = ["config.hpp", "base", "channel", "receiver", "strategies", "task", "flow",
          "sweet_async.hpp"]
INCLUDE = re.compile(r'^\s*#\s*include\s*<sweet_async/([^>]+)>', re.MULTILINE)


def layer_of(path):
    """The layer of `path` (relative to include/sweet_async/), or None for an integration."""
    first = path.split("/")[0]
    if first in LAYERS:
        return LAYERS.index(first)
    return None


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    core = os.path.join(repo, "include", "sweet_async")
    roots = [core]
    integrations = os.path.join(repo, "integrations")
    if os.path.isdir(integrations):
        for name in sorted(os.listdir(integrations)):
            root = os.path.join(integrations, name, "include", "sweet_async")
            if os.path.isdir(root):
                roots.append(root)

    problems = []
    arrows = 0
    for root in roots:
        for directory, _, files in os.walk(root):
            for file in sorted(files):
                if not file.endswith(".hpp"):
                    continue
                full = os.path.join(directory, file)
                path = os.path.relpath(full, root).replace(os.sep, "/")
                if root != core:
                    path = os.path.basename(os.path.dirname(os.path.dirname(root))) + "/" + path
                own = layer_of(path) if root == core else None
                if root == core and own is None:
                    problems.append(f"{path}: not in a layer folder ({', '.join(LAYERS)})")
                    continue
                with open(full, encoding="utf-8") as f:
                    text = f.read()
                for included in INCLUDE.findall(text):
                    arrows += 1
                    target = layer_of(included)
                    if target is None:
                        if root == core:
                            problems.append(f"{path}: includes the integration <sweet_async/"
                                            f"{included}>; the core never depends on one")
                        elif not os.path.exists(os.path.join(os.path.dirname(root),
                                                             "sweet_async", included)):
                            problems.append(f"{path}: includes <sweet_async/{included}>, "
                                            f"which is in no layer")
                        continue
                    if own is not None and target > own:
                        problems.append(f"{path} ({LAYERS[own]}) includes <sweet_async/{included}>"
                                        f" ({LAYERS[target]}), a layer above it")
    for problem in problems:
        print(problem)
    print(f"check_layers: {arrows} includes between sweet_async headers, "
          f"{len(problems)} running up a layer")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
