"""Run every benchmark: `python -m bench [name ...]`."""

from __future__ import annotations

import importlib
import sys

ALL = ["engine", "agreement", "documents", "listing", "api_load"]


def main(argv: list[str]) -> None:
    for name in argv or ALL:
        importlib.import_module(f"bench.{name}").run()
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
