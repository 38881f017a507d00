"""A refresh of a loaded index lists the stores without the lock every read takes (issue 14): a page's
reads go on while a listing takes seconds (a Hub store's HTTP call, a big local store), and the
refresh then applies what changed. Refreshes run one at a time; two at once give the index one gives.
Real threads, no timings: the listing blocks on an event the test controls."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

from lib.core.config import load_definition
from lib.index import Index
from lib.stores.local import LocalFileStore
from tests.indexes import index_content

ROOT = Path(__file__).resolve().parents[1]
DEMO_RESULT = "kestrel-nlp__Kestrel-12B-Instruct/results_2026-02-28T03-35-49.270484.json"


class GatedStore(LocalFileStore):
    """A local store whose listing, once ``gate`` is armed, says it started and waits to be let go."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.armed = False
        self.listing = threading.Event()  # set when a gated listing started
        self.gate = threading.Event()  # the test lets the listing go on
        self.calls = 0
        self._count = threading.Lock()

    def list_files(self, suffixes=(".json",), irregular=False):  # type: ignore[no-untyped-def]
        with self._count:
            self.calls += 1
        if self.armed:
            self.listing.set()
            assert self.gate.wait(30), "the test never let the listing go on"
        return super().list_files(suffixes, irregular)


class GatedReads(LocalFileStore):
    """A local store whose file reads, once armed, say they started and wait to be let go (a Hub
    store's download of a changed file)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.armed = False
        self.reading = threading.Event()
        self.gate = threading.Event()

    def read_bytes(self, path: str) -> bytes:
        if self.armed:
            self.reading.set()
            assert self.gate.wait(30), "the test never let the read go on"
        return super().read_bytes(path)


def _stores(tmp_path: Path) -> tuple[GatedStore, Path]:
    shutil.copytree(ROOT / "demo" / "results", tmp_path / "results")
    (tmp_path / "requests").mkdir()
    return GatedStore(tmp_path / "results"), tmp_path / "requests"


def _add_model(results: Path, name: str) -> None:
    added = json.loads((results / DEMO_RESULT).read_text(encoding="utf-8"))
    added["model_name"] = f"kestrel-nlp/{name}"
    added["model_name_sanitized"] = f"kestrel-nlp__{name}"
    added["config"]["model_args"]["pretrained"] = f"kestrel-nlp/{name}"
    added.pop("request", None)
    path = results / f"kestrel-nlp__{name}" / "results_2026-03-01T00-00-00.000000.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(added), encoding="utf-8")


def _index(tmp_path: Path, store: GatedStore, requests: Path) -> Index:
    return Index(load_definition(None), store, str(requests), parallel=False, cache=tmp_path / "cache")


def test_reads_complete_while_a_refresh_is_held_in_its_listing(tmp_path):
    store, requests = _stores(tmp_path)
    index = _index(tmp_path, store, requests)
    index.refresh()
    before = index.counts()["evaluations"]
    generation = index.generation
    _add_model(tmp_path / "results", "Kestrel-Locked-1B")
    store.armed = True
    outcome: list[object] = []
    refresher = threading.Thread(target=lambda: outcome.append(index.refresh()), daemon=True)
    refresher.start()
    try:
        assert store.listing.wait(30)
        # the refresh is inside its listing: a reader on another thread is not held by it
        read: list[object] = []
        reader = threading.Thread(
            target=lambda: read.append((index.counts(), index.query("ingest_report"))), daemon=True
        )
        reader.start()
        reader.join(30)
        assert not reader.is_alive(), "a read waited for the refresh's listing"
        assert read[0][0]["evaluations"] == before  # type: ignore[index]
        assert index.generation == generation  # nothing applied yet
    finally:
        store.gate.set()
        refresher.join(30)
    assert not refresher.is_alive()
    assert outcome and outcome[0].parsed == 1  # type: ignore[attr-defined]
    assert index.counts()["evaluations"] == before + 1
    assert index.generation == generation + 1
    fresh = _index(tmp_path / "fresh", GatedStore(tmp_path / "results"), requests)
    fresh.cache = None
    fresh.refresh()
    assert index_content(index) == index_content(fresh)


def test_two_refreshes_at_once_give_the_index_one_refresh_gives(tmp_path):
    store, requests = _stores(tmp_path)
    index = _index(tmp_path, store, requests)
    index.refresh()
    _add_model(tmp_path / "results", "Kestrel-Twice-1B")
    os.remove(tmp_path / "results" / DEMO_RESULT)
    store.armed = True
    outcomes: list[object] = []
    first = threading.Thread(target=lambda: outcomes.append(index.refresh()), daemon=True)
    second = threading.Thread(target=lambda: outcomes.append(index.refresh()), daemon=True)
    first.start()
    assert store.listing.wait(30)
    second.start()
    store.gate.set()
    first.join(30)
    second.join(30)
    assert not first.is_alive() and not second.is_alive()
    assert len(outcomes) == 2
    parsed = sorted(o.parsed + o.removed for o in outcomes)  # type: ignore[attr-defined]
    assert parsed == [0, 2]  # the first read the change, the second found nothing more
    fresh = _index(tmp_path / "fresh", GatedStore(tmp_path / "results"), requests)
    fresh.cache = None
    fresh.refresh()
    assert index_content(index) == index_content(fresh)


def test_reads_complete_while_a_refresh_reads_a_changed_file(tmp_path):
    """The changed files of a steady refresh are read and parsed before it takes the lock too."""
    shutil.copytree(ROOT / "demo" / "results", tmp_path / "results")
    (tmp_path / "requests").mkdir()
    store = GatedReads(tmp_path / "results")
    index = Index(load_definition(None), store, str(tmp_path / "requests"), parallel=False, cache=False)
    index.refresh()
    before = index.counts()["evaluations"]
    _add_model(tmp_path / "results", "Kestrel-Download-1B")
    store.armed = True
    refresher = threading.Thread(target=index.refresh, daemon=True)
    refresher.start()
    try:
        assert store.reading.wait(30)
        read: list[object] = []
        reader = threading.Thread(target=lambda: read.append(index.counts()), daemon=True)
        reader.start()
        reader.join(30)
        assert not reader.is_alive(), "a read waited for the refresh's read of a changed file"
        assert read == [index.counts()] and index.counts()["evaluations"] == before
    finally:
        store.gate.set()
        refresher.join(30)
    assert not refresher.is_alive()
    assert index.counts()["evaluations"] == before + 1
