"""Two worker processes sharing one Hub cache folder lose no update.

Each process makes 25 status updates of one request (heartbeat-like: read the version and the content,
add one to a counter, write by compare-and-swap, retry on a conflict) through its own ``HubFileStore``
over the same ``cache_dir``, against the Hub-compatible test server. Every update a process counted as
written must be in the final file: 50 in all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.stores.hub import HubFileStore
from tests.hub_server import HubServer

ROOT = Path(__file__).resolve().parents[1]
PATH = "org/model-a_eval_request_False_float16_Original.json"

UPDATER = """
import json, sys
from lib.queue.requests import read_request
from lib.stores.hub import HubFileStore
store = HubFileStore("org/requests", endpoint=sys.argv[1], cache_dir=sys.argv[2], max_attempts=50)
name, wanted, done, conflicts = sys.argv[3], int(sys.argv[4]), 0, 0
while done < wanted:
    store.list_files()  # as the worker does before each pass: syncs the shared mirror
    request, version = read_request(store, sys.argv[5])
    data = dict(request.raw)
    data["updates"] = data.get("updates", 0) + 1
    data["by_" + name] = data.get("by_" + name, 0) + 1
    if store.replace_if_unchanged(sys.argv[5], json.dumps(data).encode(), version):
        done += 1
    else:
        conflicts += 1
print(json.dumps({"done": done, "conflicts": conflicts}))
"""


@pytest.fixture
def hub(monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    with HubServer() as server:
        yield server


def test_two_processes_sharing_one_cache_lose_no_update(hub, tmp_path):
    request = {"model": "org/model-a", "precision": "float16", "weight_type": "Original", "status": "RUNNING"}
    hub.add_repo("org/requests", {PATH: json.dumps(request)}, repo_type="dataset")
    cache = tmp_path / "shared-cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_XET": "1"}
    env.pop("HF_TOKEN", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPDATER, hub.url, str(cache), name, "25", PATH],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["done"] for r in reports] == [25, 25]
    store = HubFileStore("org/requests", endpoint=hub.url, cache_dir=tmp_path / "fresh-cache")
    store.list_files()
    final = json.loads(store.read_bytes(PATH))
    assert (final.get("by_a"), final.get("by_b"), final.get("updates")) == (25, 25, 50)
    # and the shared cache itself now agrees with the Hub
    shared = HubFileStore("org/requests", endpoint=hub.url, cache_dir=cache)
    shared.list_files()
    assert json.loads(shared.read_bytes(PATH)) == final
