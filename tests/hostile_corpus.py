"""A seeded generator of hostile stores: result files, request files and Hub YAML an attacker could write.

``generate(root, seed, results=...)`` writes a results store, a requests store and a local Hub mirror
under ``root`` and returns a ``Corpus`` saying, file by file, what a careful reader must do with it:

- ``load``: a readable file that must be in the index (``warn``: loaded, with a warning row);
- ``error``: a file that cannot be read and must be an error row of the ingest report, by its path;
- ``either``: a fuzzed file (random bytes flipped or cut in a valid one): loaded or reported, never lost.

Each attack class (see ``RESULT_CLASSES``) gets a share of the files, so that a few thousand files try
every class many times with different seeds for the surrounding content. Used by tests/test_hostile.py
and by ``python bench/hostile.py``. Writes only below ``root``.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The 561-byte "billion laughs" for YAML: nine levels of nine aliases, 9**9 leaves once expanded.
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)

# class -> expected outcome; the shares of the corpus are equal except for "valid" (a third).
RESULT_CLASSES: dict[str, str] = {
    "valid": "load",
    "hib_not_object": "warn",
    "metric_int_beyond_float": "warn",
    "metric_thousands_of_digits": "error",
    "metric_int_beyond_int64": "load",
    "stderr_int_beyond_float": "load",
    "date_out_of_range": "warn",
    "nshot_beyond_int32": "warn",
    "nsamples_beyond_int64": "warn",
    "step_beyond_int64": "warn",
    "tokens_beyond_int64": "warn",
    "nesting_thousands_deep": "error",
    "lone_surrogate": "warn",
    "non_utf8_bytes": "error",
    "non_utf8_file_name": "error",
    "empty": "error",
    "whitespace_only": "error",
    "json_not_object": "error",
    "malformed_json": "error",
    "nonfinite_metric": "warn",
    "all_metrics_nonfinite": "error",
    "results_not_object": "error",
    "directory_named_json": "error",
    "dangling_symlink": "error",
    "symlink_loop": "error",
    "symlink_out_of_store": "error",
    "symlink_inside_store": "load",
    "fifo_named_json": "error",
    "fuzzed": "either",
}
TASKS = ("arc_easy", "hellaswag", "winogrande", "gsm8k", "mmlu", "piqa")
BIG = 10**30  # beyond int64 and exact float
HUGE = 10**400  # beyond a float's range
THOUSANDS = "7" * 5000  # digits of an integer beyond Python's 4300-digit limit for reading integers


@dataclass
class Corpus:
    """What was written and what a reader must do with each file."""

    results: Path
    requests: Path
    hub: Path
    expected: dict[str, str] = field(default_factory=dict)  # results path (as the report shows it) -> outcome
    classes: dict[str, str] = field(default_factory=dict)  # results path -> attack class
    requests_expected: dict[str, str] = field(default_factory=dict)  # request path -> load | error
    request_classes: dict[str, str] = field(default_factory=dict)
    yaml_expected: dict[str, str] = field(default_factory=dict)  # "<model>/<file>" -> load | error
    yaml_classes: dict[str, str] = field(default_factory=dict)

    def tried(self) -> Counter[str]:
        return Counter(self.classes.values())


def generate(
    root: Path, seed: int = 12, results: int = 3000, requests: int = 300, yaml_files: int = 300
) -> Corpus:
    """Write the three stores below ``root`` (deterministic for ``seed``) and return what to expect."""
    rng = random.Random(seed)
    corpus = Corpus(root / "results", root / "requests", root / "hub")
    for folder in (corpus.results, corpus.requests, corpus.hub):
        folder.mkdir(parents=True, exist_ok=True)
    (root / "outside.json").write_text(json.dumps(_valid(rng, "outside/model")))
    kinds = list(RESULT_CLASSES)
    plan = ["valid"] * (results // 3) + [
        kinds[1 + i % (len(kinds) - 1)] for i in range(results - results // 3)
    ]
    rng.shuffle(plan)
    valid_paths: list[str] = []
    for i, kind in enumerate(plan):
        model = f"org{i % 97}/model-{i}"
        rel = f"{model.replace('/', '__')}/results_2026-01-{1 + i % 28:02d}T00-00-{i % 60:02d}.{i:06d}.json"
        shown = _write_result(corpus.results, rel, kind, model, rng, valid_paths, root)
        corpus.expected[shown] = RESULT_CLASSES[kind]
        corpus.classes[shown] = kind
        if kind == "valid":
            valid_paths.append(rel)
    _write_requests(corpus, rng, requests)
    _write_yaml(corpus, rng, yaml_files)
    return corpus


# --------------------------------------------------------------------------- results
def _valid(rng: random.Random, model: str, tasks: int = 3) -> dict[str, Any]:
    chosen = rng.sample(TASKS, tasks)
    return {
        "results": {
            t: {
                "alias": t,
                "acc,none": round(rng.random(), 4),
                "acc_stderr,none": round(rng.random() / 50, 4),
            }
            for t in chosen
        },
        "n-shot": {t: rng.choice((0, 5, 10)) for t in chosen},
        "higher_is_better": {t: {"acc": True} for t in chosen},
        "n-samples": {t: {"original": 100, "effective": 100} for t in chosen},
        "config": {"model": "hf", "model_args": f"pretrained={model},dtype=bfloat16", "batch_size": 8},
        "lm_eval_version": "0.4.9",
        "date": 1_750_000_000.0 + rng.random() * 1e6,
    }


def _dump(data: Any) -> bytes:
    return json.dumps(data, allow_nan=True).encode("utf-8")


def _first(data: dict[str, Any]) -> str:
    return next(iter(data["results"]))


def _write_result(
    store: Path, rel: str, kind: str, model: str, rng: random.Random, valid_paths: list[str], root: Path
) -> str:
    """Write one file of ``kind`` at ``rel`` (or a nearby name); the path as the report will show it."""
    path = store / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _valid(rng, model)
    task = _first(data)
    raw: bytes | None = None
    if kind == "hib_not_object":
        data["higher_is_better"][task] = rng.choice([["acc"], "yes", 1, True])
    elif kind == "metric_int_beyond_float":
        data["results"][task]["bad,none"] = HUGE
    elif kind == "metric_thousands_of_digits":
        raw = _dump(data).replace(b'"acc,none": ', b'"acc,none": ' + THOUSANDS.encode() + b', "x": ', 1)
    elif kind == "metric_int_beyond_int64":
        data["results"][task]["acc,none"] = BIG
    elif kind == "stderr_int_beyond_float":
        data["results"][task]["acc_stderr,none"] = HUGE
    elif kind == "date_out_of_range":
        data["date"] = rng.choice([BIG, -BIG, 1e300])
    elif kind == "nshot_beyond_int32":
        data["n-shot"][task] = rng.choice([BIG, 2**31, -5])
    elif kind == "nsamples_beyond_int64":
        data["n-samples"][task] = {"original": BIG, "effective": BIG}
    elif kind == "step_beyond_int64":
        data["request"] = {"model": model, "step": BIG}
    elif kind == "tokens_beyond_int64":
        data["request"] = {"model": model, "tokens": BIG}
    elif kind == "nesting_thousands_deep":
        depth = rng.choice([2_000, 5_000, 50_000])
        raw = _dump(data)[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    elif kind == "lone_surrogate":
        raw = _dump(data).replace(f'"{task}"'.encode(), f'"{task}\\ud800x"'.encode())
    elif kind == "non_utf8_bytes":
        raw = _dump(data).replace(b'"hf"', b'"h\xff\xfe"')
    elif kind == "non_utf8_file_name":
        name = os.fsencode(path.parent) + b"/results_\xff\xfe.json"
        with open(name, "wb") as handle:
            handle.write(_dump(data))
        return (
            os.fsdecode(name)[len(str(store)) + 1 :]
            .encode("utf-8", "surrogateescape")
            .decode("utf-8", "backslashreplace")
        )
    elif kind == "empty":
        raw = b""
    elif kind == "whitespace_only":
        raw = b" \n\t " * rng.randint(1, 50)
    elif kind == "json_not_object":
        raw = _dump(rng.choice([[1, 2, 3], "results", 42, None, [data]]))
    elif kind == "malformed_json":
        text = _dump(data)
        raw = text[: rng.randint(1, len(text) - 2)]
    elif kind == "nonfinite_metric":
        data["results"][task]["acc_norm,none"] = rng.choice([float("nan"), float("inf"), float("-inf")])
        raw = _dump(data)
        if rng.random() < 0.5:
            raw = raw[:-1] + b', "total_evaluation_time_seconds": 1e999}'
    elif kind == "all_metrics_nonfinite":
        for t in data["results"]:
            data["results"][t]["acc,none"] = float("nan")
    elif kind == "results_not_object":
        data["results"] = rng.choice([[1, 2], "acc", None])
    elif kind == "directory_named_json":
        path.mkdir()
        return rel
    elif kind == "dangling_symlink":
        path.symlink_to(store / "nowhere" / "missing.json")
        return rel
    elif kind == "symlink_loop":
        path.symlink_to(path.name)  # a link to itself: the shortest loop
        return rel
    elif kind == "symlink_out_of_store":
        path.symlink_to(root / "outside.json")
        return rel
    elif kind == "symlink_inside_store":
        if not valid_paths:
            path.write_bytes(_dump(data))
            return rel
        path.symlink_to(os.path.relpath(store / rng.choice(valid_paths), path.parent))
        return rel
    elif kind == "fifo_named_json":
        os.mkfifo(path)
        return rel
    elif kind == "fuzzed":
        buf = bytearray(_dump(data))
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        raw = bytes(buf[: rng.randint(len(buf) // 2, len(buf))])
    path.write_bytes(raw if raw is not None else _dump(data))
    return rel


# --------------------------------------------------------------------------- requests
REQUEST_CLASSES: dict[str, str] = {
    "valid": "load",
    "malformed_json": "error",
    "not_object": "error",
    "nesting_thousands_deep": "error",
    "thousands_of_digits": "error",
    "non_utf8_bytes": "error",
    "empty": "error",
    "unknown_status": "error",
    "directory_named_json": "error",
    "dangling_symlink": "error",
}


def _request(model: str, rng: random.Random) -> dict[str, Any]:
    return {
        "model": model,
        "base_model": "",
        "revision": f"{rng.getrandbits(160):040x}",
        "precision": "bfloat16",
        "weight_type": "Original",
        "status": rng.choice(["PENDING", "FINISHED", "FAILED", "RUNNING"]),
        "submitted_time": "2026-01-01T00:00:00Z",
        "model_type": "pretrained",
        "likes": rng.randint(0, 100),
        "params": round(rng.random() * 10, 2),
        "license": "apache-2.0",
        "private": False,
    }


def _write_requests(corpus: Corpus, rng: random.Random, count: int) -> None:
    kinds = list(REQUEST_CLASSES)
    for i in range(count):
        kind = "valid" if i % 3 == 0 else kinds[1 + (i - 1 - i // 3) % (len(kinds) - 1)]
        org, name = f"org{i % 13}", f"model-{i}"
        rel = f"{org}/{name}_eval_request_False_bfloat16_Original.json"
        path = corpus.requests / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _request(f"{org}/{name}", rng)
        raw = json.dumps(data).encode()
        if kind == "malformed_json":
            raw = raw[: rng.randint(1, len(raw) - 2)]
        elif kind == "not_object":
            raw = json.dumps([data]).encode()
        elif kind == "nesting_thousands_deep":
            raw = raw[:-1] + b', "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
        elif kind == "thousands_of_digits":
            raw = raw[:-1] + b', "likes2": ' + THOUSANDS.encode() + b"}"
        elif kind == "non_utf8_bytes":
            raw = raw.replace(b"apache", b"ap\xffche")
        elif kind == "empty":
            raw = b""
        elif kind == "unknown_status":
            raw = json.dumps({**data, "status": "EXPLODED"}).encode()
        elif kind == "directory_named_json":
            path.mkdir()
            raw = None
        elif kind == "dangling_symlink":
            path.symlink_to("missing.json")
            raw = None
        if raw is not None:
            path.write_bytes(raw)
        corpus.requests_expected[rel] = REQUEST_CLASSES[kind]
        corpus.request_classes[rel] = kind


# --------------------------------------------------------------------------- Hub YAML
YAML_CLASSES: dict[str, str] = {
    "valid": "load",
    "alias_bomb": "error",
    "nesting_thousands_deep": "error",
    "value_thousands_of_digits": "error",
    "value_beyond_float": "error",
    "value_infinite": "error",
    "value_huge_string": "error",
    "not_a_list": "error",
    "non_utf8_bytes": "error",
    "oversized": "error",
    "malformed": "error",
    "card_alias_bomb": "error",
    "card_value_beyond_float": "error",
}


def _entry(rng: random.Random, value: Any = None) -> str:
    shown = value if value is not None else round(rng.random(), 4)
    return (
        f"- dataset:\n    id: cais/hle\n    task_id: default\n  value: {shown}\n"
        f'  date: "2025-01-{rng.randint(1, 28):02d}"\n  source:\n    url: https://example.org/x\n'
    )


def _write_yaml(corpus: Corpus, rng: random.Random, count: int) -> None:
    kinds = list(YAML_CLASSES)
    for i in range(count):
        kind = "valid" if i % 3 == 0 else kinds[1 + (i - 1 - i // 3) % (len(kinds) - 1)]
        model = f"org{i % 11}/model-{i}"
        folder = corpus.hub / model
        (folder / ".eval_results").mkdir(parents=True, exist_ok=True)
        file = "README.md" if kind.startswith("card_") else ".eval_results/results.yaml"
        text: bytes
        if kind == "valid":
            text = _entry(rng).encode()
        elif kind == "alias_bomb":
            text = ALIAS_BOMB.encode()
        elif kind == "nesting_thousands_deep":
            depth = rng.choice([3_000, 30_000])
            text = ("- dataset: " + "[" * depth + "]" * depth + "\n").encode()
        elif kind == "value_thousands_of_digits":
            text = _entry(rng, THOUSANDS).encode()
        elif kind == "value_beyond_float":
            text = _entry(rng, str(HUGE)).encode()
        elif kind == "value_infinite":
            text = _entry(rng, rng.choice([".inf", "-.inf", ".nan", "1e999"])).encode()
        elif kind == "value_huge_string":
            text = _entry(rng, '"' + "9" * 200_000 + '"').encode()
        elif kind == "not_a_list":
            text = rng.choice([b"just text", b"{a: 1}", b"42", b""])
        elif kind == "non_utf8_bytes":
            text = _entry(rng).encode().replace(b"cais", b"ca\xff\xfes")
        elif kind == "oversized":
            text = _entry(rng).encode() * 40_000  # ~4 MB
        elif kind == "malformed":
            text = b"- dataset: {id: [unclosed\n  value: : :\n"
        elif kind == "card_alias_bomb":
            text = ("---\n" + ALIAS_BOMB + "model-index: *i\n---\n# card\n").encode()
        elif kind == "card_value_beyond_float":
            text = (
                "---\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n"
                f"    dataset: {{name: d, type: cais/hle}}\n    metrics:\n    - {{type: acc, value: {HUGE}}}\n---\n"
            ).encode()
        else:  # pragma: no cover - every class is listed above
            raise AssertionError(kind)
        (folder / file).write_bytes(text)
        key = f"{model}/{file}"
        corpus.yaml_expected[key] = YAML_CLASSES[kind]
        corpus.yaml_classes[key] = kind
