"""The local store's compare-and-swap: a kernel lock that a killed writer cannot leave behind, and no lost
update between processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lib.stores import local
from lib.stores.local import LocalFileStore
from tests.lmeval_fixtures import ROOT, wait_for

HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").write("locked")
time.sleep(600)
"""

INCREMENT = """
import json, sys
from lib.stores.local import LocalFileStore
store = LocalFileStore(sys.argv[1])
done = 0
while done < int(sys.argv[2]):
    version = store.version("counter.json")
    value = json.loads(store.read_bytes("counter.json"))["n"]
    if store.replace_if_unchanged("counter.json", json.dumps({"n": value + 1}).encode(), version):
        done += 1
"""


def _hold_lock(tmp_path: Path, target: Path) -> subprocess.Popen:
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(target.with_name(f".{target.name}.lock")), str(ready)]
    )
    wait_for(ready.exists, seconds=30, what="the lock holder to take the lock")
    return proc


def test_a_writer_killed_while_holding_the_lock_blocks_no_status_change(tmp_path, monkeypatch):
    store = LocalFileStore(tmp_path)
    store.write_bytes("r.json", b'{"status": "PENDING"}')
    holder = _hold_lock(tmp_path, tmp_path / "r.json")
    monkeypatch.setattr(local, "LOCK_WAIT_S", 0.2)
    version = store.version("r.json")
    assert not store.replace_if_unchanged("r.json", b'{"status": "RUNNING"}', version)  # held: a lost race
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    # no 30-second wait for a stale lock file: the kernel dropped the dead writer's lock
    assert store.replace_if_unchanged("r.json", b'{"status": "RUNNING"}', version)
    assert json.loads(store.read_bytes("r.json")) == {"status": "RUNNING"}
    assert [f.path for f in store.list_files()] == ["r.json"]  # the lock file is hidden


def test_four_processes_incrementing_one_file_by_compare_and_swap_lose_no_update(tmp_path):
    store = LocalFileStore(tmp_path)
    store.write_bytes("counter.json", b'{"n": 0}')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", INCREMENT, str(tmp_path), "50"], env=env, cwd=ROOT)
        for _ in range(4)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    assert json.loads(store.read_bytes("counter.json")) == {"n": 200}


def test_a_stale_version_never_wins(tmp_path):
    store = LocalFileStore(tmp_path)
    store.write_bytes("r.json", b"1")
    old = store.version("r.json")
    time.sleep(0.01)
    store.write_bytes("r.json", b"22")
    assert not store.replace_if_unchanged("r.json", b"3", old)
    assert store.read_bytes("r.json") == b"22"
