"""Submissions: the rules a model must pass before it is queued, and the request file that records it.

``validate_submission`` runs one function per rule, in the order the Open LLM Leaderboard applies them
(signed-in sender; a well-formed model id and form; per-organisation rate limit; opt-out list; the model
exists and its revision resolves to a commit sha; no duplicate of (model, sha, precision); parameter count
from the safetensors metadata under the precision's cap; no remote code; a license; a model card of
substance; a chat template when asked). The first rule that fails gives a ``Refusal`` whose message says
what to fix; otherwise it returns the request dict to write. ``submit`` writes it with an exclusive create,
so two identical submissions racing make one request. Admin actions (approve, re-queue, flag) are here too.

Models are read through a ``lib.queue.model_sources`` source (the Hub through huggingface_hub, or local folders
when the definition allows them). This module never touches Streamlit, torch or transformers, and a model
id reaches a path only through ``lib.stores.base.safe_relpath``.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lib.core.config import Definition
from lib.core.records import Status
from lib.core.request import Request
from lib.queue.model_sources import (
    LOCAL_PREFIX,
    HubUnavailable,
    LocalModelSource,
    ModelSource,
    ModelSourceError,
    ResolvedModel,
    split_front_matter,
)
from lib.queue.requests import (
    RequestInvalid,
    create_request,
    read_request,
    read_requests,
    request_path,
)
from lib.stores.base import FileStore, StoreError, UnsafePathError, safe_relpath

log = logging.getLogger(__name__)

MAX_MODEL_ID_LENGTH = 96 * 2 + 1  # the Hub allows 96 characters per namespace and per name
MAX_REVISION_LENGTH = 255
_HUB_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/+=@-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
QUEUE_PAGE = "queue"


@dataclass(frozen=True)
class SubmissionForm:
    """What a submitter typed: the same fields in the sidebar form and on the command line."""

    model: str
    revision: str = "main"
    precision: str = "float16"
    weight_type: str = "Original"
    base_model: str = ""
    model_type: str = ""  # a category id of the definition ('pretrained', 'chat', ...)
    use_chat_template: bool = False
    private: bool = False
    sender: str = ""


@dataclass(frozen=True)
class Refusal:
    """Why a submission was refused: the rule's name and a message that says what to fix."""

    rule: str
    message: str
    existing: str = ""  # for a duplicate: the path of the request that already exists
    retry: bool = False  # True when trying again later may work (the Hub was unreachable)
    model: str = ""  # for a duplicate: the model whose request to follow


@dataclass(frozen=True)
class SubmissionResult:
    """What ``submit`` did: a refusal, or the request written and its place in the queue."""

    refusal: Refusal | None = None
    path: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    position: int | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None

    @property
    def message(self) -> str:
        if self.refusal is not None:
            return self.refusal.message
        status = self.request.get("status", "")
        place = f"; place in the queue: {self.position}" if self.position else ""
        if status == Status.APPROVAL.value:
            return f"{self.request['model']} was submitted and waits for an admin's approval{place}"
        return f"{self.request['model']} was added to the queue{place}"


@dataclass
class Check:
    """The state the rules share: the form, the definition, the existing requests and what was resolved."""

    form: SubmissionForm
    definition: Definition
    requests: list[Request]
    source: ModelSource | None
    now: datetime
    model: ResolvedModel | None = None
    base: ResolvedModel | None = None
    params: float | None = None
    architectures: tuple[str, ...] = ()
    is_local: bool = False
    progress: Callable[[int, int], None] | None = None  # (bytes hashed, bytes in all) of a local folder


Rule = Callable[[Check], Refusal | None]


# --- rules, in order --------------------------------------------------------------------------------


def check_sender(check: Check) -> Refusal | None:
    """A submission needs a signed-in user (or the deployment's anonymous sender)."""
    sender = check.form.sender.strip()
    if not sender:
        return Refusal(
            "sender", "Sign in to submit a model (this leaderboard records who submitted each request)."
        )
    if _CONTROL.search(sender) or len(sender) > 100:
        return Refusal("sender", "The sender name is not valid.")
    return None


def check_model_id(check: Check) -> Refusal | None:
    """The model id is org/name of the Hub's characters, or a local model when the definition allows them."""
    text = check.form.model
    problem = hub_id_problem(text)
    if problem is None and not text.startswith(LOCAL_PREFIX):
        return None
    if is_local_reference(text):
        if not check.definition.allow_local_models:
            return Refusal(
                "model_id", "Local model folders are not allowed on this leaderboard: give a Hub id org/name."
            )
        if _CONTROL.search(text) or len(text) > 4096:
            return Refusal("model_id", "The local model path contains control characters or is too long.")
        check.is_local = True
        return None
    return Refusal("model_id", f"Model id: {problem}.")


def check_form_fields(check: Check) -> Refusal | None:
    """Revision, precision, weight type, base model and category are present and among the allowed values."""
    form, definition = check.form, check.definition
    revision = form.revision.strip()
    if revision and (
        len(revision) > MAX_REVISION_LENGTH or not _REVISION.match(revision) or ".." in revision
    ):
        return Refusal("revision", "Revision: give a branch, tag or commit sha (letters, digits, '._-/').")
    if form.precision not in definition.precisions:
        return Refusal("precision", f"Precision: choose one of {', '.join(definition.precisions)}.")
    if form.weight_type not in definition.weight_types:
        return Refusal("weight_type", f"Weight type: choose one of {', '.join(definition.weight_types)}.")
    if form.weight_type != "Original":
        if not form.base_model.strip():
            return Refusal(
                "base_model", f"Base model: a {form.weight_type} model needs the base model's Hub id."
            )
        problem = hub_id_problem(form.base_model)
        if problem is not None and not (check.is_local and is_local_reference(form.base_model)):
            return Refusal("base_model", f"Base model: {problem}.")
    if definition.categories and check_category_of(form, definition) is None:
        ids = ", ".join(c.id for c in definition.categories)
        return Refusal("model_type", f"Model type: choose one of {ids}.")
    return None


def check_rate_limit(check: Check) -> Refusal | None:
    """At most ``rate_limit.count`` submissions per organisation in ``rate_limit.days``; official providers exempt."""
    limit = check.definition.submissions.rate_limit
    count, days = limit.count, limit.days
    if count <= 0 or days <= 0:
        return None
    org = submitter_org(check)
    if org in check.definition.official_providers:
        return None
    since = check.now - timedelta(days=days)
    recent = [
        r
        for r in check.requests
        if _org_of_request(r) == org and (_parse_time(r.submitted_time) or since) > since
    ]
    if len(recent) >= count:
        return Refusal(
            "rate_limit",
            f"{org} already submitted {len(recent)} models in the last {days:g} days (limit {count}); "
            "try again later.",
            retry=True,
        )
    return None


def check_opt_out(check: Check) -> Refusal | None:
    """Organisations and models on the definition's opt-out list are never evaluated."""
    opted = {o.strip().lower() for o in check.definition.submissions.opt_out}
    model = check.form.model.strip().lower()
    if model in opted or model.split("/", 1)[0] in opted:
        return Refusal(
            "opt_out", f"{check.form.model} opted out of this leaderboard: it cannot be submitted."
        )
    return None


def check_model_exists(check: Check) -> Refusal | None:
    """The model (and the base model) exist and the revision resolves to a commit sha (or folder hash)."""
    source = _source(check)
    form = check.form
    try:
        check.model = source.resolve(form.model.strip(), form.revision.strip() or "main")
    except ModelSourceError as exc:
        return Refusal("model_exists", f"Model: {exc}.", retry=isinstance(exc, HubUnavailable))
    if form.weight_type != "Original":
        base_source = _source(check, local=check.is_local and is_local_reference(form.base_model))
        try:
            check.base = base_source.resolve(form.base_model.strip(), "main")
        except ModelSourceError as exc:
            return Refusal("base_model_exists", f"Base model: {exc}.", retry=isinstance(exc, HubUnavailable))
    try:
        safe_relpath(*check.model.model.split("/"))
    except UnsafePathError as exc:
        return Refusal("model_id", f"Model id {check.model.model!r} cannot name a request file: {exc}.")
    return None


def check_duplicate(check: Check) -> Refusal | None:
    """(model, sha, precision) may be requested once; the refusal links to the existing request."""
    assert check.model is not None
    for request in check.requests:
        if (request.model, request.revision, request.precision) == (
            check.model.model,
            check.model.sha,
            check.form.precision,
        ):
            return duplicate_refusal(request)
    return None


def check_params(check: Check) -> Refusal | None:
    """The parameter count comes from safetensors metadata and stays under the precision's cap."""
    assert check.model is not None
    target = check.base if check.form.weight_type == "Adapter" and check.base else check.model
    try:
        count = _source(check, local=bool(target.model_path)).parameter_count(target)
    except ModelSourceError as exc:
        return Refusal("params", f"Parameters: {exc}.", retry=isinstance(exc, HubUnavailable))
    if not count:
        return Refusal(
            "params",
            f"{target.model} has no safetensors weights, so its size is unknown: convert the weights to "
            "safetensors and submit again.",
        )
    check.params = float(f"{count / 1e9:.4g}")
    caps = check.definition.submissions.max_params_b
    cap = caps.get(check.form.precision)
    if cap is not None and count / 1e9 > float(cap):
        return Refusal(
            "params",
            f"{target.model} has {count / 1e9:.1f}B parameters; this leaderboard evaluates at most {cap}B in "
            f"{check.form.precision}. Choose a quantized precision or a smaller model.",
        )
    return None


def check_no_remote_code(check: Check) -> Refusal | None:
    """Config and tokenizer load without trust_remote_code: no ``auto_map``, an architecture transformers knows."""
    assert check.model is not None
    adapter = check.form.weight_type == "Adapter"
    target = check.base if adapter and check.base else check.model
    source = _source(check, local=bool(target.model_path))
    try:
        if adapter and not _source(check).has_file(check.model, "adapter_config.json"):
            return Refusal(
                "remote_code",
                f"{check.model.model} is submitted as an Adapter but has no adapter_config.json.",
            )
        config = source.read_json(target, "config.json")
        tokenizer = source.read_json(target, "tokenizer_config.json") or {}
    except ModelSourceError as exc:
        return Refusal("remote_code", f"Config: {exc}.", retry=isinstance(exc, HubUnavailable))
    if config is None:
        return Refusal("remote_code", f"{target.model} has no config.json: transformers cannot load it.")
    if config.get("auto_map") or tokenizer.get("auto_map"):
        return Refusal(
            "remote_code",
            f"{target.model} needs custom code (auto_map in its config): this leaderboard never runs remote code. "
            "Use an architecture that transformers ships.",
        )
    architectures = config.get("architectures") or []
    if isinstance(architectures, str):
        architectures = [architectures]
    if not architectures:
        return Refusal("remote_code", f"{target.model}'s config.json names no architectures.")
    known = known_architectures() | set(check.definition.submissions.known_architectures)
    unknown = [a for a in architectures if known and str(a) not in known]
    if unknown:
        return Refusal(
            "remote_code",
            f"Architecture {', '.join(map(str, unknown))} is not one transformers knows: it would need remote code.",
        )
    check.architectures = tuple(str(a) for a in architectures)
    return None


def check_license(check: Check) -> Refusal | None:
    """The model card declares a license."""
    assert check.model is not None
    if not check.definition.submissions.require_license:
        return None
    if not check.model.license:
        return Refusal(
            "license",
            f"{check.model.model} declares no license: add `license:` to the model card's metadata and submit again.",
        )
    return None


def check_model_card(check: Check) -> Refusal | None:
    """The model card has some substance (at least ``min_card_chars`` characters of text)."""
    assert check.model is not None
    minimum = check.definition.submissions.min_card_chars
    if minimum <= 0:
        return None
    try:
        text = _source(check).read_text(check.model, "README.md")
    except ModelSourceError as exc:
        return Refusal("model_card", f"Model card: {exc}.", retry=isinstance(exc, HubUnavailable))
    if text is None:
        return Refusal(
            "model_card", f"{check.model.model} has no model card (README.md): add one describing the model."
        )
    _, body = split_front_matter(text)
    if len(body.strip()) < minimum:
        return Refusal(
            "model_card",
            f"{check.model.model}'s model card is too short ({len(body.strip())} characters, at least {minimum}): "
            "describe the model, its training data and intended use.",
        )
    return None


def check_chat_template(check: Check) -> Refusal | None:
    """When 'use chat template' is asked, the tokenizer has one."""
    assert check.model is not None
    if not check.form.use_chat_template:
        return None
    candidates = [check.model] + ([check.base] if check.base else [])
    try:
        for target in candidates:
            source = _source(check, local=bool(target.model_path))
            tokenizer = source.read_json(target, "tokenizer_config.json") or {}
            if tokenizer.get("chat_template") or source.has_file(target, "chat_template.jinja"):
                return None
            if source.has_file(target, "chat_template.json"):
                return None
    except ModelSourceError as exc:
        return Refusal("chat_template", f"Chat template: {exc}.", retry=isinstance(exc, HubUnavailable))
    return Refusal(
        "chat_template",
        f"{check.model.model} has no chat template in its tokenizer: untick 'use chat template' or add one.",
    )


RULES: tuple[Rule, ...] = (
    check_sender,
    check_model_id,
    check_form_fields,
    check_rate_limit,
    check_opt_out,
    check_model_exists,
    check_duplicate,
    check_params,
    check_no_remote_code,
    check_license,
    check_model_card,
    check_chat_template,
)


# --- running the rules and writing the request --------------------------------------------------------


def validate_submission(
    form: SubmissionForm,
    definition: Definition,
    requests: list[Request],
    source: ModelSource | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Refusal | dict[str, Any]:
    """Run every rule in order; the first failure's Refusal, or the request dict to write.

    ``source`` reads Hub models (default: a ``HubModelSource`` on $HF_ENDPOINT); local models are read
    from the definition's ``local_model_roots``, and ``progress`` follows the hashing of their files.
    Never raises for bad input.
    """
    check = Check(form, definition, requests, source, now or datetime.now(UTC), progress=progress)
    for rule in RULES:
        refusal = rule(check)
        if refusal is not None:
            log.info("submission of %r refused by %s", form.model[:200], refusal.rule)
            return refusal
    return build_request(check)


def build_request(check: Check) -> dict[str, Any]:
    """The request file's content for a submission that passed every rule."""
    assert check.model is not None
    form, definition, model = check.form, check.definition, check.model
    category = check_category_of(form, definition)
    data: dict[str, Any] = {
        "model": model.model,
        "base_model": (check.base.model if check.base else form.base_model.strip()),
        "revision": model.sha,
        "precision": form.precision,
        "weight_type": form.weight_type,
        "status": initial_status(definition, model.model).value,
        "submitted_time": check.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model_type": f"{category.symbol} : {category.id}" if category else form.model_type,
        "likes": model.likes if model.likes is not None else 0,
        "params": check.params,
        "license": model.license,
        "private": bool(form.private or model.private),
        "architectures": list(check.architectures),
        "use_chat_template": bool(form.use_chat_template),
        "sender": form.sender.strip(),
        "requested_revision": form.revision.strip() or "main",
        "num_fewshot": {b.id: b.num_fewshot for b in definition.benchmarks},
        "attempts": 0,
        "error": "",
    }
    if model.model_path:
        data["model_path"] = model.model_path
    return data


def submit(
    form: SubmissionForm,
    definition: Definition,
    store: FileStore,
    source: ModelSource | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SubmissionResult:
    """Validate and write the request with an exclusive create (never overwrites).

    Two identical submissions at once give one request: the loser is refused as a duplicate. Nothing is
    written when a rule refuses (the Hub unreachable included).
    """
    requests, _ = read_requests(store) if _store_exists(store) else ([], [])
    outcome = validate_submission(form, definition, requests, source, now, progress)
    if isinstance(outcome, Refusal):
        return SubmissionResult(refusal=outcome)
    path = _free_path(store, outcome)
    created, path = create_request(store, outcome, path=path)
    if not created:
        try:
            existing, _ = read_request(store, path)
        except RequestInvalid as exc:
            return SubmissionResult(refusal=malformed_refusal(path, str(exc)))
        except (FileNotFoundError, ValueError):
            return SubmissionResult(
                refusal=Refusal(
                    "duplicate", "Another submission wrote the same request; try again.", retry=True
                )
            )
        if (existing.model, existing.revision, existing.precision) == (
            outcome["model"], outcome["revision"], outcome["precision"],
        ):  # fmt: skip
            return SubmissionResult(refusal=duplicate_refusal(existing))
        return SubmissionResult(
            refusal=Refusal("duplicate", "Another submission wrote the same request; try again.", retry=True)
        )
    requests, _ = read_requests(store)
    return SubmissionResult(path=path, request=outcome, position=queue_position(requests, path))


def _free_path(store: FileStore, data: dict[str, Any]) -> str:
    """The template's path; when it holds another revision of the model, the same path plus the sha."""
    path = request_path(data["model"], bool(data["private"]), data["precision"], data["weight_type"])
    try:
        existing, _ = read_request(store, path)
    except (FileNotFoundError, ValueError, TypeError):
        return path
    if existing.revision == data["revision"]:
        return path
    return safe_relpath(path[: -len(".json")] + f"_{str(data['revision'])[:12]}.json")


def queue_position(requests: list[Request], path: str) -> int | None:
    """1-based place of the request among those waiting with the same status (private first, then oldest)."""
    mine = next((r for r in requests if r.path == path), None)
    if mine is None:
        return None
    waiting = [r for r in requests if r.status.queue_group == mine.status.queue_group]
    waiting.sort(key=lambda r: (not r.private, r.submitted_time, r.path))
    return next(i for i, r in enumerate(waiting, 1) if r.path == path)


def malformed_refusal(path: str, reason: str) -> Refusal:
    """The refusal when a malformed request file holds the place this submission's file would take."""
    return Refusal(
        "malformed",
        f"a malformed request file already holds this request's place in the queue ({path}: {reason}); "
        "an admin must fix or remove it (the evaluator marks it FAILED when it next runs)",
        existing=path,
    )


def duplicate_refusal(request: Request) -> Refusal:
    """The refusal for a model already requested, with a link to its request."""
    return Refusal(
        "duplicate",
        f"{request.model} at {request.revision[:12]} in {request.precision} was already submitted "
        f"(status {request.status.value}): follow it at {tracking_link(request.model)}",
        existing=request.path,
        model=request.model,
    )


def tracking_link(model: str, base_url: str = "") -> str:
    """The Queue page filtered to one model: the link a submitter keeps to follow a request."""
    return f"{base_url.rstrip('/')}/{QUEUE_PAGE}?model={quote(model, safe='')}"


def initial_status(definition: Definition, model: str) -> Status:
    """PENDING in automatic mode; APPROVAL in manual mode; semi-automatic trusts listed organisations."""
    mode = definition.evaluation_mode
    if mode == "manual":
        return Status.APPROVAL
    if mode == "semi-automatic":
        org = model.split("/", 1)[0]
        trusted = set(definition.official_providers) | set(definition.evaluation.semi_auto_orgs)
        return Status.PENDING if org in trusted else Status.APPROVAL
    return Status.PENDING


# --- helpers ---------------------------------------------------------------------------------------------


def hub_id_problem(model: str) -> str | None:
    """None for a valid Hub id ``org/name``; else what is wrong with it."""
    text = model if isinstance(model, str) else ""
    if not text.strip():
        return "enter the model's Hub id, e.g. org/name"
    if _CONTROL.search(text):
        return "it contains control characters"
    if len(text) > MAX_MODEL_ID_LENGTH:
        return f"it is longer than {MAX_MODEL_ID_LENGTH} characters"
    if text != text.strip():
        return "remove the spaces around it"
    if text.startswith(("/", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", text):
        return "an absolute path is not a Hub id"
    parts = text.split("/")
    if len(parts) != 2:
        return "use the form org/name (one '/')"
    for part in parts:
        if part in (".", "..") or ".." in part or "--" in part:
            return "'..' and '--' are not allowed in a Hub id"
        if not _HUB_PART.match(part):
            return "use letters, digits, '-', '_' and '.' only (starting and ending with a letter or digit)"
    return None


def is_local_reference(text: str) -> bool:
    """Whether the text names a local model folder (``local/<name>`` or an absolute path)."""
    return isinstance(text, str) and (text.startswith(LOCAL_PREFIX) or Path(text).expanduser().is_absolute())


def check_category_of(form: SubmissionForm, definition: Definition) -> Any:
    """The definition's category the form names, or None."""
    if not form.model_type.strip():
        return None
    return definition.category(form.model_type)


def submitter_org(check: Check) -> str:
    """The organisation a rate limit counts: the Hub namespace, or the sender for local models."""
    if check.is_local:
        return f"sender:{check.form.sender.strip()}"
    return check.form.model.split("/", 1)[0]


def _org_of_request(request: Request) -> str:
    if request.is_local:
        return f"sender:{request.sender}"
    return request.model.split("/", 1)[0]


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _source(check: Check, local: bool | None = None) -> ModelSource:
    if local if local is not None else check.is_local:
        return LocalModelSource(
            tuple(_local_roots(check.definition)),
            int(check.definition.evaluation.local_model_max_gb * 1e9),
            check.progress,
        )
    if check.source is None:
        from lib.queue.model_sources import HubModelSource

        check.source = HubModelSource()
    return check.source


def _local_roots(definition: Definition) -> list[str]:
    return [str(definition.relative_path(root)) for root in definition.evaluation.local_model_roots]


def _store_exists(store: FileStore) -> bool:
    try:
        store.list_files((".json",))
    except StoreError:  # a missing folder is an empty queue here
        return False
    return True


@cache
def known_architectures() -> frozenset[str]:
    """Class names transformers' auto mappings know, read from its source without importing it (no torch).

    Empty when transformers is not installed: then only ``auto_map`` is checked.
    """
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        log.info("transformers is not installed: architectures are not checked against its auto mappings")
        return frozenset()
    source = Path(next(iter(spec.submodule_search_locations))) / "models" / "auto" / "modeling_auto.py"
    try:
        text = source.read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    names = frozenset(re.findall(r'"([A-Z][A-Za-z0-9_]*)"', text))
    # A layout we do not recognise must not refuse every model: fall back to the auto_map check alone.
    return names if len(names) >= 50 else frozenset()
