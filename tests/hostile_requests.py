"""A seeded generator of hostile request files, and what the evaluator must do with each.

``write_request_corpus(folder, seed, copies)`` writes ``copies`` files of every class in ``CLASSES`` into a
requests store (each copy with different surrounding content from the seed) and returns
``{path: (class, outcome)}``. Outcomes:

- ``malformed``: does not validate, named like a request, not in a final status: the evaluator rewrites
  it FAILED with "malformed request file: ..." and keeps its text in ``malformed_content``;
- ``refused``: a valid record the evaluator must refuse when it claims it (a hostile model id): FAILED
  with the reason;
- ``left``: does not validate but says FINISHED or FAILED: left as it is, listed as malformed;
- ``skipped``: cannot be rewritten (a folder or a dangling link named like a request, a file not named
  like a request): skipped with a logged warning, never touched;
- ``either``: a valid request with random bytes flipped: FAILED as malformed, or read and handled as
  a request, but never lost and never fatal.

Used by tests/test_evaluator_hostile.py. Writes only below ``folder``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

THOUSANDS = "9" * 5000  # beyond Python's default int-from-text limit of 4,300 digits


def _base(rng: random.Random, model: str) -> dict[str, Any]:
    return {
        "model": model,
        "revision": f"{rng.getrandbits(160):040x}",
        "precision": "float32",
        "weight_type": "Original",
        "status": rng.choice(["PENDING", "PENDING", "RERUN"]),
        "submitted_time": f"2026-01-{rng.randint(1, 28):02d}T00:00:00Z",
        "model_type": "pretrained",
        "sender": "mallory",
        "attempts": 0,
    }


def _with(**changes: Any) -> Callable[[dict[str, Any], random.Random], bytes]:
    return lambda data, rng: json.dumps({**data, **changes}).encode()


def _without(key: str) -> Callable[[dict[str, Any], random.Random], bytes]:
    return lambda data, rng: json.dumps({k: v for k, v in data.items() if k != key}).encode()


def _truncated(data: dict[str, Any], rng: random.Random) -> bytes:
    raw = json.dumps(data).encode()
    return raw[: rng.randint(1, len(raw) - 2)]


def _deep(data: dict[str, Any], rng: random.Random) -> bytes:
    depth = rng.randint(5_000, 50_000)
    return json.dumps(data).encode()[:-1] + b', "extra": ' + b"[" * depth + b"]" * depth + b"}"


def _deep_in_field(data: dict[str, Any], rng: random.Random) -> bytes:
    return (
        json.dumps({**data, "progress": None})
        .encode()
        .replace(b'"progress": null', b'"progress": ' + b"[" * 3000 + b"]" * 3000)
    )


def _digits(data: dict[str, Any], rng: random.Random) -> bytes:
    return (
        json.dumps({**data, "attempts": 0})
        .encode()
        .replace(b'"attempts": 0', b'"attempts": ' + THOUSANDS.encode())
    )


def _huge_file(data: dict[str, Any], rng: random.Random) -> bytes:
    return json.dumps({**data, "padding": "x" * 2_100_000}).encode()


def _lone_surrogate(data: dict[str, Any], rng: random.Random) -> bytes:
    return json.dumps(data).encode().replace(b'"mallory"', b'"mal\\ud800lory"')


def _non_utf8(data: dict[str, Any], rng: random.Random) -> bytes:
    return json.dumps(data).encode().replace(b"mallory", b"mal\xfflory")


# class -> (how the bytes are made, outcome). "model" in a class name means the model id is the attack.
CLASSES: dict[str, tuple[Callable[[dict[str, Any], random.Random], bytes], str]] = {
    "truncated_json": (_truncated, "malformed"),
    "empty": (lambda data, rng: b"", "malformed"),
    "whitespace": (lambda data, rng: b" \n\t ", "malformed"),
    "not_object_list": (lambda data, rng: json.dumps([data]).encode(), "malformed"),
    "not_object_string": (lambda data, rng: b'"PENDING"', "malformed"),
    "not_object_null": (lambda data, rng: b"null", "malformed"),
    "non_utf8_bytes": (_non_utf8, "malformed"),
    "lone_surrogate": (_lone_surrogate, "malformed"),
    "nesting_thousands_deep": (_deep, "malformed"),
    "nesting_in_a_job_field": (_deep_in_field, "malformed"),
    "thousands_of_digits": (_digits, "malformed"),
    "attempts_huge": (_with(attempts=10**30), "malformed"),
    "attempts_negative": (_with(attempts=-1), "malformed"),
    "attempts_infinite": (lambda data, rng: json.dumps({**data, "attempts": 1e999}).encode(), "malformed"),
    "priority_huge": (_with(priority=1e308), "malformed"),
    "attempts_wrong_type": (_with(attempts="three"), "malformed"),
    "precision_wrong_type": (_with(precision=["float32"]), "malformed"),
    "private_wrong_type": (_with(private="perhaps"), "malformed"),
    "status_wrong_type": (_with(status=3), "malformed"),
    "progress_wrong_type": (_with(progress="half"), "malformed"),
    "history_wrong_type": (_with(status_history="yesterday"), "malformed"),
    "heartbeat_not_a_time": (_with(job_heartbeat="soon"), "malformed"),
    "job_id_object": (_with(job_id={"$gt": ""}), "malformed"),
    "unknown_status": (_with(status="EXPLODED"), "malformed"),
    "status_injection": (_with(status="PENDING\nFINISHED"), "malformed"),
    "missing_model": (_without("model"), "malformed"),
    "model_empty": (_with(model=""), "malformed"),
    "model_null": (_with(model=None), "malformed"),
    "model_control_characters": (_with(model="org/m\x1b[2J\x00"), "malformed"),
    "model_bidi_override": (_with(model="org/\u202egpj.exe"), "malformed"),
    "model_ten_thousand_chars": (_with(model="org/" + "m" * 10_000), "malformed"),
    "file_over_two_megabytes": (_huge_file, "malformed"),
    "running_with_garbage": (_with(status="RUNNING", job_heartbeat=[1, 2]), "malformed"),
    "model_path_traversal": (_with(model="../../etc/passwd"), "refused"),
    "model_absolute_path": (_with(model="/etc/passwd"), "refused"),
    "model_html": (_with(model='org/<img src=x onerror="alert(1)">'), "refused"),
    "model_markdown_link": (_with(model="org/[click](https://evil.example)"), "refused"),
    "model_dot_segments": (_with(model="org/.."), "refused"),
    "finished_but_malformed": (_with(status="FINISHED", attempts="x"), "left"),
    "failed_but_malformed": (_with(status="failed", progress=7), "left"),
}
SKIPPED = ("directory_named_json", "dangling_symlink", "not_named_like_a_request")


def write_request_corpus(folder: Path, seed: int = 7, copies: int = 3) -> dict[str, tuple[str, str]]:
    """Write ``copies`` files of every class (and the skipped kinds) below ``folder``; see the module doc."""
    rng = random.Random(seed)
    expected: dict[str, tuple[str, str]] = {}
    for copy in range(copies):
        for kind, (make, outcome) in CLASSES.items():
            rel = f"org{copy}/{kind.replace('_', '-')}_eval_request_False_float32_Original.json"
            data = _base(rng, f"org{copy}/{kind.replace('_', '-')}")
            _write(folder / rel, make(data, rng))
            expected[rel] = (kind, outcome)
        valid = json.dumps(_base(rng, f"org{copy}/fuzzed")).encode()
        buf = bytearray(valid)
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        rel = f"org{copy}/fuzzed_eval_request_False_float32_Original.json"
        _write(folder / rel, bytes(buf))
        expected[rel] = ("fuzzed", "either")
        rel = f"org{copy}/folder_eval_request_False_float32_Original.json"
        (folder / rel).mkdir(parents=True)
        expected[rel] = ("directory_named_json", "skipped")
        rel = f"org{copy}/dangling_eval_request_False_float32_Original.json"
        (folder / rel).symlink_to("nowhere.json")
        expected[rel] = ("dangling_symlink", "skipped")
        rel = f"org{copy}/notes-{copy}.json"
        _write(folder / rel, b"[1, 2")
        expected[rel] = ("not_named_like_a_request", "skipped")
    return expected


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
