"""A generated hostile corpus (tests/hostile_corpus.py) against ingest, the index, the Hub readers.

The claims: nothing crashes; every file that cannot be read is an error row of the report, by its
path; every readable file is loaded (with a warning row where something was dropped); nothing is lost
silently. The same corpus, larger, is ``python bench/hostile.py`` (docs/reliability.md).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from lib.core.config import load_definition
from lib.index import Index
from lib.ingest import parallel
from tests.hostile_corpus import RESULT_CLASSES, generate

SEED = 20261123


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("hostile"), seed=SEED, results=2400, requests=240, yaml_files=260)


def _check_results(index: Index, corpus) -> None:
    report = index.problems()
    results = report[report["store"] == "results"]
    errors = set(results.loc[results["level"] == "error", "path"])
    warned = set(results.loc[results["level"] == "warning", "path"])
    loaded = {row[0] for row in index.con.execute("SELECT eval_id FROM evaluations").fetchall()}
    for path, outcome in corpus.expected.items():
        kind = corpus.classes[path]
        if outcome in ("load", "warn"):
            assert path in loaded and path not in errors, (kind, path)
        if outcome == "warn":
            assert path in warned, (kind, path)
        if outcome == "error":
            assert path in errors and path not in loaded, (kind, path)
        if outcome == "either":
            assert (path in loaded) != (path in errors), (kind, path)
    assert errors <= set(corpus.expected), "an error row names a file the corpus did not write"
    assert not report["reason"].str.len().gt(500).any(), "a reason is unbounded"
    assert not (report["store"] == "store").any(), report[report["store"] == "store"]


def test_every_class_is_tried_many_times(corpus):
    tried = corpus.tried()
    assert set(tried) == set(RESULT_CLASSES)
    assert min(tried.values()) >= 50 and sum(tried.values()) == 2400


def test_index_survives_the_corpus_in_process(corpus):
    index = Index(load_definition("demo"), str(corpus.results), str(corpus.requests), parallel=False)
    index.refresh()
    _check_results(index, corpus)
    stats = index.refresh()  # nothing changed: nothing is read again, nothing disappears
    assert (stats.parsed, stats.removed) == (0, 0)
    _check_results(index, corpus)


def test_index_survives_the_corpus_in_worker_processes(corpus, monkeypatch):
    monkeypatch.setattr("lib.index.db.PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr("lib.index.db.worker_count", lambda: 2)
    index = Index(load_definition("demo"), str(corpus.results), str(corpus.requests))
    index.refresh()
    _check_results(index, corpus)


def test_requests_of_the_corpus(corpus):
    index = Index(load_definition("demo"), str(corpus.results), str(corpus.requests), parallel=False)
    index.refresh()
    report = index.problems()
    errors = set(report.loc[(report["store"] == "requests") & (report["level"] == "error"), "path"])
    loaded = {r.path for r in index.requests_list}
    for path, outcome in corpus.requests_expected.items():
        kind = corpus.request_classes[path]
        assert (path in loaded, path in errors) == (outcome == "load", outcome == "error"), (kind, path)


def test_a_failed_file_is_read_again_once_fixed(tmp_path):
    corpus = generate(tmp_path, seed=1, results=60, requests=0, yaml_files=0)
    index = Index(load_definition("demo"), str(corpus.results), "", parallel=False)
    index.refresh()
    broken = next(p for p, k in corpus.classes.items() if k == "malformed_json")
    assert broken in set(index.problems()["path"])
    valid = next(p for p, k in corpus.classes.items() if k == "valid")
    (corpus.results / broken).write_bytes((corpus.results / valid).read_bytes())
    os.utime(corpus.results / broken, ns=(1, 1))
    index.refresh()
    assert broken not in set(index.problems()["path"])
    loaded = {r[0] for r in index.con.execute("SELECT eval_id FROM evaluations").fetchall()}
    assert broken in loaded


def test_a_worker_that_dies_names_its_file_and_the_rest_loads(tmp_path):
    corpus = generate(tmp_path, seed=2, results=90, requests=0, yaml_files=0)
    paths = sorted(p for p, k in corpus.classes.items() if k == "valid")
    fifo = "org0__stuck/results_fifo.json"
    (corpus.results / fifo).parent.mkdir(parents=True)
    os.mkfifo(corpus.results / fifo)  # a worker that opens it blocks until it is killed
    paths.insert(len(paths) // 2, fifo)

    def kill_the_stuck_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for pid in _children_running("lib.ingest.parallel_worker"):
                if _blocked_on(pid, corpus.results / fifo):
                    os.kill(pid, signal.SIGKILL)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_stuck_worker, daemon=True)
    killer.start()
    batches = list(parallel.parse_in_workers(str(corpus.results), paths, 1))
    killer.join()
    problems = [p for b in batches for p in b.problems if p[1] == "error"]
    assert [p[0] for p in problems] == [fifo]
    assert "killed by signal 9" in problems[0][2] and "while reading this file" in problems[0][2]
    loaded = {row for b in batches for row in b.evaluations.column("eval_id").to_pylist()}
    assert loaded == set(paths) - {fifo}


def _children_running(module: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and module.encode() in cmdline:
            found.append(int(entry.name))
    return found


def _blocked_on(pid: int, fifo: Path) -> bool:
    """Whether the process is opening the FIFO (its wait channel) - checked by its current syscall file."""
    try:
        syscall = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    # openat(AT_FDCWD, path, ...): blocked in the open of a FIFO with no writer
    return bool(syscall) and syscall[0] in ("257", "56") and fifo.exists()


def test_hub_yaml_of_the_corpus(corpus):
    from lib.hub.loader import MirrorLoader

    loaded = MirrorLoader(corpus.hub).load()
    by_model = {r.model for r in loaded.results}
    errors = [p.path for p in loaded.problems if p.level == "error"]
    for key, outcome in corpus.yaml_expected.items():
        model = "/".join(key.split("/")[:2])
        kind = corpus.yaml_classes[key]
        named = any(path.startswith(key) for path in errors)
        assert (model in by_model, named) == (outcome == "load", outcome == "error"), (kind, key)
    assert all(len(p.reason) < 400 for p in loaded.problems)


BOMB_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from lib.hub.results import parse_eval_results, parse_model_card
from tests.hostile_corpus import ALIAS_BOMB
lines = ALIAS_BOMB.strip().split("\\n")
entry = "- dataset: {id: cais/hle, task_id: default}\\n  value: 0.5\\n"
bomb = entry + "".join(f"  {line}\\n" for line in lines) + "  notes: *i\\n"
results, problems = parse_eval_results("org/m", ".eval_results/bomb.yaml", bomb)
card, card_problems = parse_model_card("org/m", "---\\n" + ALIAS_BOMB + "model-index: *i\\n---\\n")
print(len(bomb.encode()), len(results), len(card), problems[0].reason, card_problems[0].reason, sep="|")
"""


def test_an_alias_bomb_is_refused_within_bounded_memory():
    """The child may use at most 1 GiB of address space: expanding the bomb needs tens of GiB."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", BOMB_CHILD], cwd=root, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    size, results, card, reason, card_reason = done.stdout.strip().split("|")
    assert int(size) < 600 and results == card == "0"
    assert "expands to more than" in reason and "expands to more than" in card_reason


def test_bounded_yaml_keeps_harmless_aliases_and_refuses_the_rest():
    from lib.core.bounded import YamlRefused, load_yaml

    assert load_yaml("base: &b {lr: 1}\nrun: *b\n") == {"base": {"lr": 1}, "run": {"lr": 1}}
    for text, why in [
        ("a: &a [*a]\n", "recursive"),
        ("a: " + "[" * 100 + "]" * 100, "nested deeper"),
        ("- " * 100 + "x", "nested deeper"),
        ("a: " + "9" * 5000, "digits"),
        (b"a: \xff", "not UTF-8"),
        ("a: 1\n" * 300_000, "limit"),
    ]:
        with pytest.raises(YamlRefused, match=why):
            load_yaml(text)


def test_every_request_and_yaml_class_is_tried(corpus):
    from tests.hostile_corpus import REQUEST_CLASSES, YAML_CLASSES

    assert set(corpus.request_classes.values()) == set(REQUEST_CLASSES)
    assert set(corpus.yaml_classes.values()) == set(YAML_CLASSES)


def test_the_bench_reproduces_it_and_reports_peak_memory():
    """``python bench/hostile.py`` on a tiny corpus: every class survives, every reader reports memory."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "bench/hostile.py", "--results", "120", "--requests", "30", "--yaml", "30"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "CRASHED" not in done.stdout and "DIFFERENT" not in done.stdout
    total = next(line for line in done.stdout.splitlines() if line.startswith("| **all**"))
    tried, survived = (cell.strip("* ") for cell in total.split("|")[2:4])
    assert tried == survived and int(tried) == 120 + 30 + 30 + 1
    assert done.stdout.count(" MiB") >= 4
