"""The search box against catastrophic regular expressions: RE2 (what the leaderboard runs) against
Python's backtracking ``re`` (what it ran before), as a Markdown table.

    python bench/regex_bomb.py

Each pattern is searched as the leaderboard search does (``lib.analysis.search.search_mask``) over one
91-character name and over 10,000 of them; Python's ``re`` is timed on growing names until one search
takes longer than a second, to show the doubling. Nothing is asserted: docs/reliability.md quotes it.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lib.analysis.search import search_mask  # noqa: E402

PATTERNS = ["(a+)+$", "(a|aa)+$", "(.*a){20}$", "^(a+)+b"]


def _time(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    name = "a" * 90 + "!"
    one, many = pd.DataFrame({"model": [name]}), pd.DataFrame({"model": [name] * 10_000})
    print("| pattern | RE2, 1 name of 91 chars | RE2, 10,000 names | Python re: shortest name over 1 s |")
    print("|---|---|---|---|")
    for pattern in PATTERNS:
        first = _time(lambda p=pattern: search_mask(one, p, {"model": "model"}, ("model",)))
        bulk = _time(lambda p=pattern: search_mask(many, p, {"model": "model"}, ("model",)))
        length, spent = 10, 0.0
        while length < 60:
            spent = _time(lambda n=length, p=pattern: re.search(p, "a" * n + "!"))
            if spent > 1.0:
                break
            length += 2
        shown = pattern.replace("|", "\\|")
        print(
            f"| `{shown}` | {first * 1e3:.2f} ms | {bulk * 1e3:.1f} ms | {length} chars took {spent:.2f} s |"
        )


if __name__ == "__main__":
    main()
