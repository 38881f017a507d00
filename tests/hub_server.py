"""A small Hub-compatible HTTP server for tests: the real ``huggingface_hub`` client talks to it over HTTP.

It keeps model and dataset repos in memory (branches -> commits -> files) and answers the endpoints that
huggingface_hub 2.4 uses for: ``model_info`` / ``dataset_info`` (``GET /api/{models,datasets}/{repo}
[/revision/{rev}]``), file downloads and metadata (``GET``/``HEAD /[datasets/]{repo}/resolve/{rev}/{path}``
with ``X-Repo-Commit``, ``ETag`` and byte ranges, which is what safetensors metadata reads), repo
creation (``POST /api/repos/create``), ``preupload`` (always ``uploadMode: regular``), ``commit`` (NDJSON,
``parentCommit`` -> 412 when the branch moved, ``create_pr``) and tree listing (``GET /api/{type}s/{repo}/
tree/{rev}[/{path}]``). Errors carry the ``X-Error-Code`` headers the client maps to its exceptions:
``RepoNotFound`` (401 as on the Hub), ``RevisionNotFound``, ``EntryNotFound``, ``GatedRepo`` (403).
Also ``paths-info`` (``POST /api/{type}s/{repo}/paths-info/{rev}``), the discussions list (open pull requests
made with ``create_pr``), revoked tokens (``HubServer.revoke(token)``: 401 "Invalid credentials") and a
``before_commit`` hook that lets a test move a branch just before a commit is applied (conflict storms).

Use it with ``HfApi(endpoint=server.url)`` (no import-order problem) and ``HF_HUB_DISABLE_XET=1``.
It is a test double: no authentication, no LFS, no persistence; it must never be used outside tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_COMMIT_TIME = "2026-01-01T00:00:00.000Z"


def git_blob_sha(data: bytes) -> str:
    """The git blob id of ``data`` (what the Hub reports as a file's ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def safetensors_bytes(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    """A valid safetensors file whose tensors are zero-filled: ``{name: (dtype, shape)}``."""
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I8": 1, "U8": 1}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        count = 1
        for dim in shape:
            count *= dim
        length = count * sizes[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + length]}
        offset += length
    encoded = json.dumps(header).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + b"\0" * offset


@dataclass
class Repo:
    """One repo: commits by sha, branches pointing at them, and what model_info reports."""

    repo_id: str
    repo_type: str = "model"
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    parents: dict[str, str | None] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    gated: bool = False
    private: bool = False
    pull_requests: int = 0
    discussions: list[dict[str, Any]] = field(default_factory=list)  # pull requests opened with create_pr

    def resolve(self, revision: str) -> str | None:
        """The commit sha a branch, tag or (full) sha names; None when it names nothing."""
        revision = unquote(revision)
        if revision in self.branches:
            return self.branches[revision]
        if revision in self.tags:
            return self.tags[revision]
        if revision in self.commits:
            return revision
        return None

    def commit(
        self, branch: str, files: dict[str, bytes], deletions: tuple[str, ...] = (), message: str = ""
    ) -> str:
        """A new commit on ``branch`` (created when missing) with ``files`` added; returns its sha."""
        parent = self.branches.get(branch) or self.branches.get("main")  # a new branch starts from main
        tree = dict(self.commits.get(parent, {})) if parent else {}
        for path in deletions:
            tree = {p: d for p, d in tree.items() if p != path and not p.startswith(path.rstrip("/") + "/")}
        tree.update(files)
        digest = hashlib.sha1()
        digest.update((parent or "").encode() + message.encode() + str(len(self.commits)).encode())
        for path in sorted(tree):
            digest.update(path.encode() + b"\0" + git_blob_sha(tree[path]).encode())
        sha = digest.hexdigest()
        self.commits[sha] = tree
        self.parents[sha] = parent
        self.branches[branch] = sha
        return sha


class HubState:
    """Everything the server knows, guarded by one lock (handlers run in threads)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, for assertions
        self.revoked_tokens: set[str] = set()  # a request carrying one of these answers 401
        self.before_commit: Callable[[Repo], None] | None = None  # runs under the lock before a commit

    def get(self, repo_type: str, repo_id: str) -> Repo | None:
        return self.repos.get((repo_type, repo_id))


class HubServer:
    """The server on 127.0.0.1 at a random port, running in a daemon thread. Use as a context manager."""

    def __init__(self) -> None:
        self.state = HubState()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.state))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True)

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes | str] | None = None,
        repo_type: str = "model",
        branch: str = "main",
        **info: Any,
    ) -> str:
        """Create (or extend) a repo with one commit of ``files`` on ``branch``; returns the commit sha.

        Keyword arguments go to the repo's info: ``card_data``, ``likes``, ``safetensors`` ({"parameters":
        {...}, "total": n}), ``gated`` (True makes file downloads answer 403 GatedRepo), ``private``.
        """
        with self.state.lock:
            repo = self.state.get(repo_type, repo_id)
            if repo is None:
                repo = Repo(repo_id, repo_type)
                self.state.repos[(repo_type, repo_id)] = repo
            repo.gated = bool(info.pop("gated", repo.gated))
            repo.private = bool(info.pop("private", repo.private))
            repo.info.update(info)
            encoded = {p: (d.encode("utf-8") if isinstance(d, str) else d) for p, d in (files or {}).items()}
            return repo.commit(branch, encoded, message="add files")

    def remove_repo(self, repo_id: str, repo_type: str = "model") -> None:
        """Delete a repo (the Hub then answers 401 RepoNotFound, as for a private one)."""
        with self.state.lock:
            self.state.repos.pop((repo_type, repo_id), None)

    def revoke(self, token: str) -> None:
        """Refuse ``token`` from now on, as the Hub does for a revoked token (401 Invalid credentials)."""
        with self.state.lock:
            self.state.revoked_tokens.add(token)

    def open_pull_request(self, repo_id: str, files: dict[str, bytes | str], title: str = "PR") -> int:
        """An open pull request on ``repo_id`` adding ``files`` (``refs/pr/N``); returns its number."""
        with self.state.lock:
            repo = self.repo(repo_id)
            repo.pull_requests += 1
            num = repo.pull_requests
            ref = f"refs/pr/{num}"
            repo.branches[ref] = repo.branches["main"]
            encoded = {p: (d.encode("utf-8") if isinstance(d, str) else d) for p, d in files.items()}
            repo.commit(ref, encoded, message=title)
            repo.discussions.append(_discussion(repo, num, title))
            return num

    def repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        with self.state.lock:
            found = self.state.get(repo_type, repo_id)
            if found is None:
                raise KeyError(repo_id)
            return found


class _HubError(Exception):
    def __init__(self, status: int, code: str, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.body = status, code, message, body


_API_INFO = re.compile(r"^/api/(models|datasets)/(.+?)(?:/revision/([^/]+))?$")
_API_TREE = re.compile(r"^/api/(models|datasets)/(.+?)/tree/([^/]+)(?:/(.*))?$")
_API_POST = re.compile(r"^/api/(models|datasets)/(.+?)/(preupload|commit)/([^/]+)$")
_API_PATHS_INFO = re.compile(r"^/api/(models|datasets)/(.+?)/paths-info/([^/]+)$")
_API_DISCUSSIONS = re.compile(r"^/api/(models|datasets)/(.+?)/discussions$")
_RESOLVE = re.compile(r"^/(datasets/)?(.+?)/resolve/([^/]+)/(.+)$")


def _handler_for(state: HubState) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        hub = state

    return Handler


class _Handler(BaseHTTPRequestHandler):
    hub: HubState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output quiet

    # --- dispatch -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query)
        with self.hub.lock:
            self.hub.requests.append((method, path))
        try:
            body = self._read_body() if method == "POST" else b""
            with self.hub.lock:
                self._check_token()
                if method == "POST" and (m := _API_PATHS_INFO.match(path)):
                    return self._paths_info(self._repo(m.group(1)[:-1], m.group(2)), m.group(3), body)
                if method == "GET" and (m := _API_DISCUSSIONS.match(path)):
                    return self._discussions(self._repo(m.group(1)[:-1], m.group(2)), query)
                if method == "POST" and path == "/api/repos/create":
                    return self._create_repo(body)
                if method == "POST" and (m := _API_POST.match(path)):
                    repo = self._repo(m.group(1)[:-1], m.group(2))
                    handler = self._preupload if m.group(3) == "preupload" else self._commit
                    return handler(repo, unquote(m.group(4)), body, query)
                if method == "GET" and (m := _API_TREE.match(path)):
                    return self._tree(
                        self._repo(m.group(1)[:-1], m.group(2)), m.group(3), m.group(4) or "", query
                    )
                if method == "GET" and (m := _API_INFO.match(path)):
                    return self._info(self._repo(m.group(1)[:-1], m.group(2)), m.group(3) or "main")
                if method in ("GET", "HEAD") and (m := _RESOLVE.match(path)):
                    repo_type = "dataset" if m.group(1) else "model"
                    return self._resolve(
                        method, self._repo(repo_type, m.group(2)), m.group(3), unquote(m.group(4))
                    )
            raise _HubError(404, "", f"no route for {method} {path}")
        except _HubError as exc:
            self._send_error(exc, head=method == "HEAD")

    # --- helpers --------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _check_token(self) -> None:
        auth = self.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip()
        if token and token in self.hub.revoked_tokens:
            raise _HubError(401, "", "Invalid credentials in Authorization header")

    def _repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.hub.get(repo_type, unquote(repo_id))
        if repo is None or repo.private:
            raise _HubError(401, "RepoNotFound", "Repository not found")
        return repo

    def _revision(self, repo: Repo, revision: str) -> str:
        sha = repo.resolve(revision)
        if sha is None:
            raise _HubError(404, "RevisionNotFound", f"Invalid rev id: {unquote(revision)}")
        return sha

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, exc: _HubError, head: bool = False) -> None:
        data = b"" if head else json.dumps(exc.body or {"error": exc.message}).encode("utf-8")
        self.send_response(exc.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if exc.code:
            self.send_header("X-Error-Code", exc.code)
        self.send_header("X-Error-Message", exc.message)
        self.end_headers()
        if data:
            self.wfile.write(data)

    # --- endpoints ------------------------------------------------------------------------------
    def _info(self, repo: Repo, revision: str) -> None:
        sha = self._revision(repo, revision)
        files = repo.commits[sha]
        payload: dict[str, Any] = {
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0] if "/" in repo.repo_id else None,
            "sha": sha,
            "private": repo.private,
            "gated": "manual" if repo.gated else False,
            "disabled": False,
            "likes": repo.info.get("likes", 0),
            "downloads": repo.info.get("downloads", 0),
            "tags": repo.info.get("tags", []),
            "lastModified": _COMMIT_TIME,
            "createdAt": _COMMIT_TIME,
            "siblings": [{"rfilename": p} for p in sorted(files)],
        }
        if repo.info.get("card_data") is not None:
            payload["cardData"] = repo.info["card_data"]
        if repo.info.get("safetensors") is not None:
            payload["safetensors"] = repo.info["safetensors"]
        if repo.info.get("config") is not None:
            payload["config"] = repo.info["config"]
        self._send_json(200, payload)

    def _resolve(self, method: str, repo: Repo, revision: str, file_path: str) -> None:
        sha = self._revision(repo, revision)
        if repo.gated:
            raise _HubError(
                403, "GatedRepo", "Access to model is restricted and you are not in the authorized list."
            )
        files = repo.commits[sha]
        if file_path not in files:
            exc = _HubError(404, "EntryNotFound", f"{file_path} does not exist on {revision}")
            self._send_error_with_commit(exc, sha, head=method == "HEAD")
            return
        data = files[file_path]
        etag = f'"{git_blob_sha(data)}"'
        status, body, extra = 200, data, {}
        range_header = self.headers.get("Range") or self.headers.get("range")
        if range_header and (m := re.match(r"bytes=(\d+)-(\d*)", range_header)):
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
            body = data[start : end + 1]
            status = 206
            extra["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("X-Repo-Commit", sha)
        self.send_header("Accept-Ranges", "bytes")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if method == "GET":
            self.wfile.write(body)

    def _send_error_with_commit(self, exc: _HubError, sha: str, head: bool) -> None:
        data = b"" if head else json.dumps({"error": exc.message}).encode("utf-8")
        self.send_response(exc.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Error-Code", exc.code)
        self.send_header("X-Error-Message", exc.message)
        self.send_header("X-Repo-Commit", sha)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _create_repo(self, body: bytes) -> None:
        payload = json.loads(body or b"{}")
        name = str(payload.get("name") or "")
        org = payload.get("organization")
        repo_id = f"{org}/{name}" if org else name
        repo_type = str(payload.get("type") or "model")
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"http://{self.headers.get('Host')}/{prefix}{repo_id}"
        if self.hub.get(repo_type, repo_id) is not None:
            raise _HubError(
                409,
                "",
                "You already created this repo",
                {"error": "You already created this repo", "url": url},
            )
        repo = Repo(repo_id, repo_type, private=payload.get("visibility") == "private")
        repo.private = False  # visible to the test client, which sends no token
        repo.commit("main", {".gitattributes": b"*.safetensors filter=lfs\n"}, message="initial commit")
        self.hub.repos[(repo_type, repo_id)] = repo
        self._send_json(200, {"url": url, "name": repo_id, "id": repo_id})

    def _preupload(self, repo: Repo, revision: str, body: bytes, query: dict[str, list[str]]) -> None:
        payload = json.loads(body or b"{}")
        sha = repo.resolve(revision)
        files = repo.commits.get(sha, {}) if sha else {}
        answer = []
        for item in payload.get("files", []):
            existing = files.get(item["path"])
            answer.append(
                {
                    "path": item["path"],
                    "uploadMode": "regular",
                    "shouldIgnore": False,
                    "oid": git_blob_sha(existing) if existing is not None else None,
                }
            )
        self._send_json(200, {"files": answer, "commitOid": sha})

    def _commit(self, repo: Repo, revision: str, body: bytes, query: dict[str, list[str]]) -> None:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = next((item["value"] for item in lines if item.get("key") == "header"), {})
        branch = revision
        create_pr = query.get("create_pr", ["0"])[0] in ("1", "true")
        if not create_pr and branch not in repo.branches:
            raise _HubError(404, "RevisionNotFound", f"Invalid rev id: {branch}")
        if self.hub.before_commit is not None:
            self.hub.before_commit(repo)
        parent = header.get("parentCommit")
        if parent and not create_pr and repo.branches.get(branch) != parent:
            raise _HubError(412, "", "A commit has happened since. Please refresh and try again.")
        additions: dict[str, bytes] = {}
        deletions: list[str] = []
        for item in lines:
            value = item.get("value", {})
            if item.get("key") == "file":
                additions[value["path"]] = base64.b64decode(value["content"])
            elif item.get("key") in ("deletedFile", "deletedFolder"):
                deletions.append(value["path"])
            elif item.get("key") == "lfsFile":
                raise _HubError(400, "", "LFS uploads are not supported by the test server")
        host = f"http://{self.headers.get('Host')}"
        prefix = "" if repo.repo_type == "model" else f"{repo.repo_type}s/"
        pr_url = None
        if create_pr:
            repo.pull_requests += 1
            pr_ref = f"refs/pr/{repo.pull_requests}"
            repo.branches[pr_ref] = parent or repo.branches.get(branch) or repo.branches.get("main", "")
            branch = pr_ref
            pr_url = f"{host}/{prefix}{repo.repo_id}/discussions/{repo.pull_requests}"
            repo.discussions.append(_discussion(repo, repo.pull_requests, str(header.get("summary", ""))))
        sha = repo.commit(branch, additions, tuple(deletions), message=str(header.get("summary", "")))
        self._send_json(
            200,
            {
                "commitUrl": f"{host}/{prefix}{repo.repo_id}/commit/{sha}",
                "commitOid": sha,
                "pullRequestUrl": pr_url,
            },
        )

    def _tree(self, repo: Repo, revision: str, folder: str, query: dict[str, list[str]]) -> None:
        sha = self._revision(repo, revision)
        files = repo.commits[sha]
        folder = unquote(folder).strip("/")
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        prefix = f"{folder}/" if folder else ""
        if folder and not any(p.startswith(prefix) for p in files):
            raise _HubError(404, "EntryNotFound", f"{folder} does not exist")
        entries: dict[str, dict[str, Any]] = {}
        for path in sorted(files):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :].split("/")
            for depth in range(1, len(rest)):
                sub = prefix + "/".join(rest[:depth])
                if recursive or depth == 1:
                    entries.setdefault(
                        sub,
                        {
                            "type": "directory",
                            "path": sub,
                            "oid": hashlib.sha1(sub.encode()).hexdigest(),
                            "size": 0,
                        },
                    )
            if recursive or len(rest) == 1:
                data = files[path]
                entries[path] = {"type": "file", "path": path, "oid": git_blob_sha(data), "size": len(data)}
        self._send_json(200, list(entries.values()))

    def _paths_info(self, repo: Repo, revision: str, body: bytes) -> None:
        sha = self._revision(repo, revision)
        files = repo.commits[sha]
        wanted = parse_qs(body.decode("utf-8")).get("paths", [])
        answer = [
            {"type": "file", "path": p, "oid": git_blob_sha(files[p]), "size": len(files[p])}
            for p in wanted
            if p in files
        ]
        self._send_json(200, answer)

    def _discussions(self, repo: Repo, query: dict[str, list[str]]) -> None:
        status = query.get("status", ["all"])[0]
        kind = query.get("type", ["all"])[0]
        found = [
            d
            for d in repo.discussions
            if status in ("all", d["status"]) and (kind != "pull_request" or d["isPullRequest"])
        ]
        page = int(query.get("p", ["0"])[0])
        items = found[page * 50 : (page + 1) * 50]
        self._send_json(200, {"discussions": items, "count": len(found), "start": page * 50})


def _discussion(repo: Repo, num: int, title: str) -> dict[str, Any]:
    return {
        "num": num,
        "title": title or f"PR {num}",
        "status": "open",
        "isPullRequest": True,
        "createdAt": _COMMIT_TIME,
        "author": {"name": "contributor"},
        "repo": {"name": repo.repo_id, "type": repo.repo_type},
    }
