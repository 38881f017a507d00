"""Text a stranger can write is shown as text on every page, in a real Chromium.

A store is planted with link, image and HTML payloads in model names, licenses, senders, failure
reasons, logs, progress texts and flag notes (bare URLs included), and the URL carries them too
(``?q=``, ``?model=``, ``?m=``, ...). Every page of the registry is opened with them; no ``<a>`` or
``<img>`` (HTML or SVG, plotly's included) that the payloads name may exist, and no dialog may fire
(the ``onerror=alert`` payload would open one if its HTML were ever live).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest
import yaml

from lib.ui.pages import PAGES
from tests.browser import browser_page, start_app, wait_for_app  # noqa: F401 - fixtures
from tests.factories import result_file

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]

LINK = "[pwnlink](https://evil.example/link)"
IMAGE = "![pwnimg](https://evil.example/pixel.png)"
HTML = '<img src="https://evil.example/x.png" onerror="alert(1)"><a href="https://evil.example/h">pwnhtml</a>'
BARE = "https://evil.example/bare www.evil.example"
MODELS = [f"evil-org/m1 {LINK}", f"evil-org/m2 {IMAGE}", f"evil-org/m3 {HTML}", f"evil-org/m4 {BARE}"]

# Elements the payloads could create: links and images pointing at evil.example, or named "pwn...".
PLANTED_JS = """() => {
  const hits = [];
  const evil = (value) => {
    if (!value) return false;
    try { return new URL(value, location.href).hostname.endsWith('evil.example'); } catch (e) { return false; }
  };
  for (const el of document.querySelectorAll('a, img, image, iframe, script, object')) {
    const urls = ['href', 'src', 'xlink:href', 'data'].map(a => el.getAttribute(a));
    const text = (el.textContent || '') + ' ' + (el.getAttribute('alt') || '');
    if (urls.some(evil) || /pwn/.test(text) || el.getAttribute('src') === 'x') {
      const box = el.closest('[data-testid]');
      hits.push((box ? box.getAttribute('data-testid') + ': ' : '') + el.outerHTML.slice(0, 200));
    }
  }
  return hits;
}"""


def _plant(root: Path) -> Path:
    scores = {"leaderboard_gpqa": {"acc_norm": 0.4}, "leaderboard_math_hard": {"exact_match": 0.1}}
    for i, model in enumerate(MODELS):
        result_file(root / "results", model, scores, stamp=f"2026-01-0{i + 1}T00-00-00.000000")
    for step in (1000, 2000, 3000):  # checkpoints: the training's name is a payload on the Checkpoints page
        result_file(root / "results", MODELS[2], {"lambada_openai": {"acc": step / 10_000}},
                    revision=f"step{step}", stamp=f"2026-02-0{step // 1000}T00-00-00.000000")  # fmt: skip
    base = {"base_model": "", "revision": "main", "precision": "bfloat16", "weight_type": "Original",
            "submitted_time": "2026-01-01T00:00:00Z", "model_type": "🟢 : pretrained", "likes": 0,
            "params": 7.0, "private": False, "sender": LINK}  # fmt: skip
    requests = [
        (MODELS[0], "FINISHED", {"license": LINK, "flagged": f"contaminated, see {BARE} {LINK} {HTML}"}),
        (MODELS[1], "FAILED", {"license": IMAGE, "error": f"{HTML} {LINK} {BARE}", "log_tail": HTML}),
        (
            MODELS[2],
            "RUNNING",
            {"license": HTML, "progress": {"task": f"{LINK} {IMAGE}", "done": 1, "total": 4}},
        ),
        (MODELS[3], "PENDING", {"license": BARE}),
    ]
    folder = root / "requests" / "evil-org"
    folder.mkdir(parents=True)
    for i, (model, status, extra) in enumerate(requests):
        data = {**base, "model": model, "status": status, **extra}
        (folder / f"m{i}_eval_request_False_bfloat16_Original.json").write_text(json.dumps(data))
    definition = yaml.safe_load((ROOT / "lib" / "definitions" / "demo.yaml").read_text(encoding="utf-8"))
    definition["stores"] = {"requests": str(root / "requests"), "results": str(root / "results")}
    definition["hub"] = {"models": [], "mirror": str(root / "no-mirror")}
    definition["admins"] = [LINK]  # the signed-in name is a payload too, and sees the admin forms
    definition["submissions"]["anonymous_sender"] = LINK
    path = root / "definition.yaml"
    path.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def planted_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    (root / "no-mirror").mkdir()
    server = start_app({"LEADERBOARD_CONFIG": str(_plant(root)), "HF_HUB_OFFLINE": "1"})
    yield server
    server.stop()


def _urls() -> list[tuple[str, str]]:
    payload = f"{LINK} {IMAGE} {HTML}"
    query = {
        "leaderboard": {"q": HTML, "hide": "merged", "chart": "heatmap", "pmax": LINK, "by": IMAGE},
        "checkpoints": {"task": "lambada_openai", "metric": "acc", "smooth": HTML, "train": payload},
        "model": {"model": MODELS[0], "revision": LINK, "precision": IMAGE},
        "compare": {"m": f"{payload},{MODELS[1]}"},
        "queue": {"model": "evil-org"},
        "benchmarks": {"task": payload},
        "about": {"x": payload},
    }
    urls = []
    for spec in PAGES:
        path = "/" if spec.default else f"/{spec.url_path}"
        urls.append((spec.url_path, f"{path}?{urlencode(query.get(spec.url_path, {}))}"))
    urls.append(("model (unknown)", f"/model?{urlencode({'model': payload})}"))
    urls.append(("leaderboard (size chart)", f"/?{urlencode({'hide': 'merged', 'chart': 'size'})}"))
    urls.append(("queue (no match)", f"/queue?{urlencode({'model': payload})}"))
    return urls


@pytest.mark.parametrize(("name", "url"), _urls(), ids=[n for n, _ in _urls()])
def test_planted_payloads_stay_text_on_every_page(planted_server, browser_page, name, url):  # noqa: F811
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(planted_server.url + url)
    wait_for_app(page)
    for expander in page.locator("[data-testid='stExpander'] summary").all():
        expander.click()  # open every expander: failure reasons, logs and reports render inside
    page.wait_for_timeout(1500)
    wait_for_app(page)
    assert not page.locator("[data-testid='stException']").count(), f"{name}: the page raised"
    planted = page.evaluate(PLANTED_JS)
    assert planted == [], f"{name}: a payload became a live element: {planted}"
    assert not dialogs, f"{name}: a dialog fired: {dialogs}"
    fetched = [u for u in requested if (urlparse(u).hostname or "").endswith("evil.example")]
    assert not fetched, f"{name}: the browser fetched a payload URL: {fetched}"
    if name == "queue":  # the payloads are on screen, as text
        # Read until the rerun that the opened expanders started has drawn (innerText is empty meanwhile).
        shown = page.wait_for_function(
            """() => {
              const main = document.querySelector('[data-testid="stMain"]');
              const text = main ? main.innerText.replace(/\u2060/g, '') : '';
              return text.includes('[pwnlink](https://evil.example/link)') && text.includes('pwnhtml') && text;
            }""",
            timeout=30_000,
        )
        assert "[pwnlink](https://evil.example/link)" in shown.json_value()
