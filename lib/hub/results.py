"""What model authors publish about their own scores: ``.eval_results/*.yaml`` files and the ``model-index``.

``parse_eval_results`` reads one ``.eval_results`` file (a YAML list of entries, see formats.md §3) and
``parse_model_card`` the older ``model-index`` block of a README's front matter (through
huggingface_hub's ``model_index_to_eval_results``). Both return ``HubResult`` records and, for every
entry that breaks the spec, an ``IngestProblem`` row: a bad entry is reported, never a crash, and the good
entries of the same file still load.

Rules applied to ``.eval_results`` entries: ``dataset.id`` and ``dataset.task_id`` are required strings;
``value`` is a finite number (not a string, not a boolean); ``source`` is a mapping whose ``url`` is
required; ``date`` is an ISO-8601 string. YAML turns an *unquoted* ``2025-01-15`` into a date object:
such an entry is **accepted with a warning** (the date is kept as its ISO text) because the value is
unambiguous, while a string that is not ISO-8601 refuses the entry. A ``verifyToken`` cannot be checked
offline: the "verified" badge means "verify token present". This module does no network I/O (see
``lib.hub.loader``) and no Streamlit.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from lib.core.bounded import YamlRefused, brief, load_yaml
from lib.core.cards import front_matter
from lib.core.records import IngestProblem

ORIGIN_EVAL_RESULTS = "eval_results"
ORIGIN_MODEL_INDEX = "model-index"
BADGES = ("verified", "community", "leaderboard", "source")
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_KNOWN_KEYS = {"dataset", "value", "verifyToken", "date", "source", "notes"}
MAX_CARD_BYTES = 8 << 20  # a README; its YAML front matter is bounded by lib.core.bounded


@dataclass(frozen=True)
class HubResult:
    """One self-reported score of one model on one Hub benchmark task (a row of the Benchmarks page)."""

    model: str
    benchmark: str  # the benchmark dataset id on the Hub, e.g. cais/hle
    task_id: str
    value: float
    metric: str = ""  # model-index results name their metric; .eval_results entries do not
    dataset_revision: str = ""
    verify_token: bool = False  # present; we cannot validate it offline
    date: str = ""
    source_url: str = ""
    source_name: str = ""
    source_user: str = ""
    source_org: str = ""
    notes: str = ""
    file: str = ""  # where in the model repo: .eval_results/x.yaml or README.md
    origin: str = ORIGIN_EVAL_RESULTS
    community: bool = False  # only in an open pull request, not on main
    pr_url: str = ""

    @property
    def badges(self) -> tuple[str, ...]:
        """The badges the Hub would show: verified, community, leaderboard, source."""
        found = []
        if self.verify_token:
            found.append("verified")
        if self.community:
            found.append("community")
        if self.origin == ORIGIN_EVAL_RESULTS and _REPO_ID_RE.match(self.benchmark):
            found.append("leaderboard")
        if is_http_url(self.source_url):
            found.append("source")
        return tuple(found)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def is_http_url(text: str) -> bool:
    """True for an absolute http(s) URL: the only links the app draws from authors' text."""
    return bool(re.match(r"^https?://[^\s/]+", str(text or ""))) and not re.search(r"\s", str(text))


def result_from_dict(data: dict[str, Any]) -> HubResult:
    """A HubResult from ``as_dict`` output (the loader's cache files)."""
    fields = {k: data[k] for k in HubResult.__dataclass_fields__ if k in data}
    return HubResult(**fields)


# --------------------------------------------------------------------------- .eval_results/*.yaml
def parse_eval_results(
    model: str, path: str, text: str | bytes, community: bool = False, pr_url: str = ""
) -> tuple[list[HubResult], list[IngestProblem]]:
    """The entries of one ``.eval_results`` file of ``model``, and a problem row per bad entry."""
    where = f"{model}/{path}"
    try:
        data = load_yaml(text)
    except YamlRefused as exc:
        return [], [IngestProblem(where, f"eval results: not read: {exc}")]
    if not isinstance(data, list):
        kind = "empty" if data is None else type(data).__name__
        return [], [
            IngestProblem(where, f"eval results: the file must hold a YAML list of entries, got {kind}")
        ]
    results: list[HubResult] = []
    problems: list[IngestProblem] = []
    for i, item in enumerate(data):
        entry_where = f"{where}[{i}]"
        try:
            result, warnings = _entry(model, path, item)
        except ValueError as exc:
            problems.append(IngestProblem(entry_where, f"eval results: {exc}"))
            continue
        problems += [IngestProblem(entry_where, f"eval results: {w}", "warning") for w in warnings]
        results.append(replace(result, community=community, pr_url=pr_url))
    return results, problems


def _entry(model: str, path: str, item: Any) -> tuple[HubResult, list[str]]:
    if not isinstance(item, dict):
        raise ValueError(f"an entry must be a mapping, got {type(item).__name__}")
    warnings = [f"unknown field {brief(key)} ignored" for key in item if key not in _KNOWN_KEYS]
    dataset = item.get("dataset")
    if not isinstance(dataset, dict):
        raise ValueError("missing 'dataset' mapping (with 'id' and 'task_id')")
    dataset_id = _required_text(dataset, "id", "dataset.id")
    task_id = _required_text(dataset, "task_id", "dataset.task_id")
    value = _number(item.get("value"))
    date, date_warning = _date(item.get("date"))
    if date_warning:
        warnings.append(date_warning)
    source = item.get("source")
    source_fields = {"url": "", "name": "", "user": "", "org": ""}
    if source is not None:
        if not isinstance(source, dict):
            raise ValueError(f"'source' must be a mapping with a 'url', got {type(source).__name__}")
        source_fields["url"] = _required_text(source, "url", "source.url (required when source is given)")
        for key in ("name", "user", "org"):
            source_fields[key] = _optional_text(source, key, f"source.{key}")
        if not is_http_url(source_fields["url"]):
            warnings.append("source.url is not an http(s) URL: shown as text, not as a link")
    return (
        HubResult(
            model=model,
            benchmark=dataset_id,
            task_id=task_id,
            value=value,
            dataset_revision=_optional_text(dataset, "revision", "dataset.revision"),
            verify_token=bool(_optional_text(item, "verifyToken", "verifyToken")),
            date=date,
            source_url=source_fields["url"],
            source_name=source_fields["name"],
            source_user=source_fields["user"],
            source_org=source_fields["org"],
            notes=_optional_text(item, "notes", "notes"),
            file=path,
            origin=ORIGIN_EVAL_RESULTS,
        ),
        warnings,
    )


def _required_text(data: dict[str, Any], key: str, label: str) -> str:
    value = data.get(key)
    if value is None or value == "":
        raise ValueError(f"missing required field {label}")
    if not isinstance(value, str):
        raise ValueError(f"{label} must be a string, got {brief(value)}")
    return value.strip()


def _optional_text(data: dict[str, Any], key: str, label: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{label} must be a string, got {brief(value)}")
    return value.strip()


def _number(value: Any) -> float:
    if value is None:
        raise ValueError("missing required field value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"value must be a number, got {brief(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond a float's range
        raise ValueError(f"value {brief(value)} is out of range") from None
    if not math.isfinite(number):
        raise ValueError(f"value must be a finite number, got {brief(value)}")
    return number


def _date(value: Any) -> tuple[str, str]:
    """(ISO text, warning); ValueError for a string that is not ISO-8601."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(), "date is not quoted (YAML read it as a date): accepted, please quote it"
    if not isinstance(value, str):
        raise ValueError(f"date must be a quoted ISO-8601 string, got {brief(value)}")
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            dt.date.fromisoformat(text)
        else:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f'date {brief(value)} is not ISO-8601 (e.g. "2025-01-15")') from None
    return text, ""


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


# --------------------------------------------------------------------------- model-index (README.md)
def parse_model_card(
    model: str, text: str | bytes, path: str = "README.md"
) -> tuple[list[HubResult], list[IngestProblem]]:
    """The ``model-index`` results of a model card, one problem row per result that cannot be read.

    Each result is converted on its own with huggingface_hub's ``model_index_to_eval_results``, so one
    malformed result does not hide the others. The benchmark is ``dataset.type``, the task
    ``dataset.config`` (else ``default``), and the metric ``metrics[].type``.
    """
    where = f"{model}/{path}"
    if len(text) > MAX_CARD_BYTES:
        return [], [
            IngestProblem(where, f"model card: larger than the {MAX_CARD_BYTES >> 20} MiB limit; not read")
        ]
    try:
        meta, _ = front_matter(text.decode("utf-8") if isinstance(text, bytes) else text)
    except UnicodeDecodeError as exc:
        return [], [IngestProblem(where, f"model card: not UTF-8 text (byte {exc.start})")]
    except YamlRefused as exc:
        return [], [IngestProblem(where, f"model card: front matter not read: {exc}")]
    if not meta or "model-index" not in meta:
        return [], []
    index = meta["model-index"]
    if not isinstance(index, list):
        return [], [IngestProblem(where, "model card: model-index must be a list")]
    results: list[HubResult] = []
    problems: list[IngestProblem] = []
    for m, entry in enumerate(index):
        if not isinstance(entry, dict) or not isinstance(entry.get("results"), list):
            problems.append(
                IngestProblem(f"{where}#model-index[{m}]", "model card: entry without a results list")
            )
            continue
        for r, item in enumerate(entry["results"]):
            label = f"{where}#model-index[{m}].results[{r}]"
            try:
                results += _model_index_result(model, path, entry.get("name"), item)
            except Exception as exc:  # noqa: BLE001 - one malformed result is its own problem row
                problems.append(IngestProblem(label, f"model card: {_describe(exc)}"))
    return results, problems


def _model_index_result(model: str, path: str, name: Any, item: Any) -> list[HubResult]:
    from huggingface_hub.repocard_data import model_index_to_eval_results

    _, evals = model_index_to_eval_results([{"name": str(name or model), "results": [item]}])
    out = []
    for ev in evals:
        value = _number(ev.metric_value)
        if not isinstance(ev.dataset_type, str) or not ev.dataset_type:
            raise ValueError("dataset.type must be a string")
        out.append(
            HubResult(
                model=model,
                benchmark=ev.dataset_type,
                task_id=str(ev.dataset_config or "default"),
                value=value,
                metric=str(ev.metric_name or ev.metric_type),
                dataset_revision=str(ev.dataset_revision or ""),
                verify_token=bool(ev.verify_token) or bool(ev.verified),
                source_url=str(ev.source_url or ""),
                source_name=str(ev.source_name or ""),
                notes=str(ev.dataset_split or ""),
                file=path,
                origin=ORIGIN_MODEL_INDEX,
            )
        )
    return out


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing required field {brief(exc.args[0])}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return _short(exc)


def to_eval_result_entries(results: Iterable[HubResult]) -> list[Any]:
    """huggingface_hub ``EvalResultEntry`` objects for ``.eval_results`` results (interop, publishing)."""
    from huggingface_hub import EvalResultEntry

    return [
        EvalResultEntry(
            dataset_id=r.benchmark,
            task_id=r.task_id,
            value=r.value,
            dataset_revision=r.dataset_revision or None,
            date=r.date or None,
            source_url=r.source_url or None,
            source_name=r.source_name or None,
            source_user=r.source_user or None,
            source_org=r.source_org or None,
            notes=r.notes or None,
        )
        for r in results
        if r.origin == ORIGIN_EVAL_RESULTS
    ]
