"""The hostile corpus (tests/hostile_corpus.py) at full size: what survived, and the peak memory.

    python bench/hostile.py                      # 20,000 result files, 2,000 requests, 2,000 Hub YAML files
    python bench/hostile.py --results 3000 --seed 7 --keep

Writes the corpus to a temporary folder, then runs each reader in a fresh process (so that its peak
resident memory is its own): the index in this process's way (``parallel=False``), the index with worker
processes, the Hub mirror loader, and the YAML alias bomb under a 1 GiB address-space limit. Prints a
Markdown table, attack -> files tried -> survived, where "survived" means the file had the outcome
the corpus expects (loaded; loaded with a warning row; an error row naming it; for fuzzed files, one of
loaded or reported) and the process did not crash. docs/reliability.md quotes it. Nothing is asserted
here: tests/test_hostile.py asserts the same on a smaller corpus.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile_corpus import ALIAS_BOMB, Corpus, generate  # noqa: E402


def _peak_mib() -> tuple[float, float]:
    """Peak resident memory (MiB) of this process and of its finished children (the ingest workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def phase_index(root: Path, parallel: bool) -> dict:
    from lib.core.config import load_definition
    from lib.index import Index, db

    corpus = _corpus(root)
    if parallel:
        db.PARALLEL_MIN_FILES = 1
    started = time.perf_counter()
    index = Index(load_definition("demo"), str(corpus.results), str(corpus.requests), parallel=parallel)
    index.refresh()
    seconds = time.perf_counter() - started
    report = index.problems()
    results = report[report["store"] == "results"]
    errors = set(results.loc[results["level"] == "error", "path"])
    warned = set(results.loc[results["level"] == "warning", "path"])
    loaded = {row[0] for row in index.con.execute("SELECT eval_id FROM evaluations").fetchall()}
    tried, survived = Counter(), Counter()
    for path, outcome in corpus.expected.items():
        kind = corpus.classes[path]
        tried[kind] += 1
        ok = {
            "load": path in loaded and path not in errors,
            "warn": path in loaded and path in warned and path not in errors,
            "error": path in errors and path not in loaded,
            "either": (path in loaded) != (path in errors),
        }[outcome]
        survived[kind] += ok
    req_errors = set(report.loc[(report["store"] == "requests") & (report["level"] == "error"), "path"])
    req_loaded = {r.path for r in index.requests_list}
    for path, outcome in corpus.requests_expected.items():
        kind = "request: " + corpus.request_classes[path]
        tried[kind] += 1
        survived[kind] += (path in req_loaded, path in req_errors) == (outcome == "load", outcome == "error")
    me, kids = _peak_mib()
    return {
        "tried": tried,
        "survived": survived,
        "seconds": seconds,
        "peak_mib": me,
        "workers_peak_mib": kids,
    }


def phase_hub(root: Path) -> dict:
    from lib.hub.loader import MirrorLoader

    corpus = _corpus(root)
    started = time.perf_counter()
    loaded = MirrorLoader(corpus.hub).load()
    seconds = time.perf_counter() - started
    models = {r.model for r in loaded.results}
    errors = [p.path for p in loaded.problems if p.level == "error"]
    tried, survived = Counter(), Counter()
    for key, outcome in corpus.yaml_expected.items():
        kind = "Hub YAML: " + corpus.yaml_classes[key]
        model = "/".join(key.split("/")[:2])
        named = any(path.startswith(key) for path in errors)
        tried[kind] += 1
        survived[kind] += (model in models, named) == (outcome == "load", outcome == "error")
    me, _ = _peak_mib()
    return {"tried": tried, "survived": survived, "seconds": seconds, "peak_mib": me}


def phase_bomb(_root: Path) -> dict:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    from lib.hub.results import parse_eval_results

    lines = ALIAS_BOMB.strip().split("\n")
    entry = "- dataset: {id: cais/hle, task_id: default}\n  value: 0.5\n"
    bomb = entry + "".join(f"  {line}\n" for line in lines) + "  notes: *i\n"
    started = time.perf_counter()
    results, problems = parse_eval_results("org/m", ".eval_results/bomb.yaml", bomb)
    seconds = time.perf_counter() - started
    me, _ = _peak_mib()
    refused = not results and any("expands to more than" in p.reason for p in problems)
    return {
        "tried": {"YAML alias bomb (9^9 values)": 1},
        "survived": {"YAML alias bomb (9^9 values)": int(refused)},
        "seconds": seconds,
        "peak_mib": me,
        "bytes": len(bomb.encode()),
    }


PHASES = {
    "index": lambda root: phase_index(root, parallel=False),
    "index-workers": lambda root: phase_index(root, parallel=True),
    "hub": phase_hub,
    "bomb": phase_bomb,
}


def _corpus(root: Path) -> Corpus:
    """The corpus's expectations, as the parent wrote them beside it."""
    plan = json.loads((root / "plan.json").read_text())
    return Corpus(root / "results", root / "requests", root / "hub", **plan)


def _save_plan(root: Path, corpus: Corpus) -> None:
    fields = ("expected", "classes", "requests_expected", "request_classes", "yaml_expected", "yaml_classes")
    (root / "plan.json").write_text(json.dumps({name: getattr(corpus, name) for name in fields}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--yaml", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the corpus and print where")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:  # a child: one reader, its figures as JSON on stdout
        print(json.dumps(PHASES[args.phase](args.root)))
        return
    root = Path(tempfile.mkdtemp(prefix="hostile-"))
    spec = {"seed": args.seed, "results": args.results, "requests": args.requests, "yaml_files": args.yaml}
    started = time.perf_counter()
    _save_plan(root, generate(root, **spec))
    print(f"corpus written in {time.perf_counter() - started:.1f} s: {spec}", file=sys.stderr)
    outcomes: dict[str, dict] = {}
    crashed: list[str] = []
    for name in PHASES:
        done = subprocess.run(
            [sys.executable, __file__, "--phase", name, "--root", str(root)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if done.returncode != 0:
            crashed.append(f"{name}: exit {done.returncode}: {done.stderr[-500:]}")
            continue
        outcomes[name] = json.loads(done.stdout.strip().splitlines()[-1])
    _print(outcomes, crashed, spec)
    if args.keep:
        print(f"\ncorpus kept in {root}", file=sys.stderr)
    else:
        shutil.rmtree(root, ignore_errors=True)


def _print(outcomes: dict[str, dict], crashed: list[str], spec: dict) -> None:
    tried: Counter[str] = Counter()
    survived: Counter[str] = Counter()
    for name in ("index", "hub", "bomb"):
        if name in outcomes:
            tried.update(outcomes[name]["tried"])
            survived.update(outcomes[name]["survived"])
    print(f"Corpus: seed {spec['seed']}, {spec['results']:,} result files, {spec['requests']:,} request files, "
          f"{spec['yaml_files']:,} Hub YAML files.\n")  # fmt: skip
    print("| attack | files tried | survived |")
    print("|---|---:|---:|")
    for kind in sorted(tried, key=lambda k: (k.startswith(("request", "Hub", "YAML")), k)):
        print(f"| {kind} | {tried[kind]:,} | {survived[kind]:,} |")
    print(f"| **all** | **{sum(tried.values()):,}** | **{sum(survived.values()):,}** |")
    print("\n| reader | wall time | peak resident memory |")
    print("|---|---:|---:|")
    for name, label in (
        ("index", "index, one process"),
        ("index-workers", "index, worker processes"),
        ("hub", "Hub mirror loader"),
        ("bomb", "alias bomb, 1 GiB address-space limit"),
    ):
        if name not in outcomes:
            continue
        out = outcomes[name]
        memory = f"{out['peak_mib']:.0f} MiB"
        if out.get("workers_peak_mib"):
            memory += f" (largest worker {out['workers_peak_mib']:.0f} MiB)"
        print(f"| {label} | {out['seconds']:.2f} s | {memory} |")
    if "index-workers" in outcomes:
        same = outcomes["index-workers"]["survived"] == outcomes["index"]["survived"]
        print(f"\nWorker processes gave {'the same' if same else 'DIFFERENT'} outcomes as one process.")
    for line in crashed:
        print(f"\nCRASHED {line}")


if __name__ == "__main__":
    main()
