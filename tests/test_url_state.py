"""Every value read from the URL is validated: a hostile query string never makes a page raise, and
what had to be replaced or clamped is said in a notice shown as plain text.

``Setting.read`` is checked on generated values (hypothesis) without Streamlit; then every page of the
registry is run through AppTest on generated hostile query strings that set every URL key the pages
read, and on the known crashers of issue 12 (``pmax=inf``, ``pmin=1e999``, ``smooth=999``,
``smooth=-3``, ``at=1e20``, garbage weights).
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from lib.analysis.compare import MAX_MODELS
from lib.core.config import load_definition
from lib.ui.leaderboard import FILTERS_KEY, WEIGHTS_KEY
from lib.ui.pages import PAGES, ROOT
from lib.ui.state import MAX_TEXT_CHARS, Setting
from tests.apptest import entry_script

HOSTILE = [
    "inf", "-inf", "Infinity", "nan", "NaN", "1e999", "-1e999", "1e20", "-1e20", "1e-400", "-3", "999",
    "9" * 400, "0x10", "1_000", "+5", "-0", "", " ", ",", ",,,", "a,a,a", "true", "maybe", "\x00", "%00",
    "<img src=x onerror=alert(1)>", "[link](https://evil.example)", "![i](https://evil.example/p.png)",
    "https://evil.example", ":red[x] $x$", "(a+)+$", "😀" * 50, "a" * 5000, "average,average", "-1",
]  # fmt: skip
NUMBER_SETTINGS = [
    Setting("f", "float", 1.0, minimum=0.0, maximum=100.0),
    Setting("i", "int", -1, minimum=-1, maximum=10**15),
    Setting("s", "int", 0, minimum=0, maximum=25),
]
OTHER_SETTINGS = [
    Setting("t", "str", ""),
    Setting("c", "str", "a", ("a", "b")),
    Setting("l", "list", ["a"], ("a", "b", "c")),
    Setting("b", "bool", False),
]
text_values = st.one_of(
    st.sampled_from(HOSTILE), st.text(max_size=80), st.floats().map(repr), st.integers().map(str)
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(text=text_values)
def test_numbers_from_the_url_are_finite_and_inside_their_range(text):
    for setting in NUMBER_SETTINGS:
        value, notice = setting.read(text)
        assert isinstance(value, int if setting.kind == "int" else float)
        assert math.isfinite(value) and setting.minimum <= value <= setting.maximum
        if notice is None:
            assert value == float(text)
        else:
            assert len(notice) < 300 and f"?{setting.key}=" in notice


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(text=text_values)
def test_other_values_from_the_url_are_valid_choices(text):
    for setting in OTHER_SETTINGS:
        value, notice = setting.read(text)
        if setting.kind == "list":
            assert set(value) <= set(setting.choices) and len(value) == len(set(value))
        elif setting.kind == "bool":
            assert isinstance(value, bool)
        elif setting.choices is not None:
            assert value in setting.choices
        else:
            assert isinstance(value, str) and len(value) <= MAX_TEXT_CHARS
        assert notice is None or len(notice) < 300


@pytest.mark.parametrize(
    ("setting", "text", "value", "said"),
    [
        (Setting("pmax", "float", 1000.0, minimum=0.0, maximum=1000.0), "inf", 1000.0, "not a finite number"),
        (Setting("pmin", "float", 0.0, minimum=0.0, maximum=1000.0), "1e999", 0.0, "not a finite number"),
        (Setting("smooth", "int", 0, minimum=0, maximum=25), "999", 25, "outside 0 to 25; using 25"),
        (Setting("smooth", "int", 0, minimum=0, maximum=25), "-3", 0, "outside 0 to 25; using 0"),
        (Setting("at", "int", -1, minimum=-1, maximum=10**15), "1e20", 10**15, "outside -1 to 1e+15"),
        (Setting("w_gpqa", "float", 1.0, minimum=0.0, maximum=100.0), "heavy", 1.0, "is not a number"),
        (Setting("w_gpqa", "float", 1.0, minimum=0.0, maximum=100.0), "1000", 100.0, "using 100"),
        (Setting("view", "str", "normalized", ("normalized", "raw")), "<b>", "normalized", "is not one of"),
    ],
)
def test_known_crashers_are_clamped_or_replaced_with_a_notice(setting, text, value, said):
    got, notice = setting.read(text)
    assert got == value and said in (notice or "")


# --------------------------------------------------------------------------- every page, through AppTest
def _url_keys() -> list[str]:
    bench_ids = [b.id for b in load_definition("demo").benchmarks]
    return [
        "q", "view", "by", "bench", "cat", "prec", "wt", "size", "pmin", "pmax", "hide", "official", "best",
        "partial", "weighted", *[f"w_{b}" for b in bench_ids], "cols", "chart", "task", "metric", "train",
        "x", "logx", "smooth", "at", "model", "revision", "precision", "m",
    ]  # fmt: skip


def _run(page: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(entry_script(), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    spec = next(p for p in PAGES if p.script == page)
    if spec.default:
        return at.run()
    at.switch_page(str(ROOT / page))
    return at.run()


def _assert_page_survived(at: AppTest, query: dict[str, str]) -> None:
    assert not at.exception, (query, [e.value for e in at.exception])
    assert at.title, "the page drew no title"
    for element in [*at.warning, *at.info, *at.error, *at.caption, *at.markdown]:
        text = str(element.value)
        # a payload from the URL is never live Markdown: its brackets and angle brackets are escaped
        assert not re.search(r"(?<!\\)\[link\]|(?<!\\)!\[i\]|(?<!\\)<img", text), text


KNOWN = {
    "pmax": "inf",
    "pmin": "1e999",
    "smooth": "999",
    "at": "1" + "0" * 20,
    "w_gpqa": "nan",
    "weighted": "1",
}


@pytest.mark.parametrize("page", [p.script for p in PAGES])
def test_the_known_crashers_leave_every_page_up(page):
    at = _run(page, KNOWN)
    _assert_page_survived(at, KNOWN)
    if page in ("pages/leaderboard.py", "pages/checkpoints.py"):
        notices = " ".join(str(w.value) for w in at.warning)
        assert "Some values in the link were changed" in notices


@pytest.mark.parametrize("page", [p.script for p in PAGES])
@settings(
    max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)
@given(data=st.data())
def test_generated_hostile_query_strings_leave_every_page_up(page, data):
    keys = _url_keys()
    chosen = data.draw(st.lists(st.sampled_from(keys), min_size=len(keys) // 2, unique=True))
    query = {
        key: data.draw(st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=40)))
        for key in chosen
    }
    query = {k: v.replace("\x00", "") or "x" for k, v in query.items()}
    _assert_page_survived(_run(page, query), query)


def test_the_leaderboard_clamps_and_says_so():
    at = _run("pages/leaderboard.py", {"pmin": "-5", "pmax": "5000", "w_gpqa": "1000", "weighted": "1"})
    _assert_page_survived(at, {})
    notices = " ".join(str(w.value) for w in at.warning)
    assert "pmax" in notices and "pmin" in notices and "w\\_gpqa" in notices
    at.session_state[FILTERS_KEY] = True  # the user opens Filters and the weights: the clamped values
    at.session_state[WEIGHTS_KEY] = True  # are what their widgets show
    at.run()
    assert at.number_input(key="url_w_gpqa").value == 100.0
    assert at.select_slider(key="params_range_1").value == (0.0, 1000.0)


def test_the_checkpoints_page_clamps_smoothing_and_the_step():
    at = _run("pages/checkpoints.py", {"smooth": "-3", "at": "1e20"})
    _assert_page_survived(at, {})
    assert at.slider(key="url_smooth").value == 0
    assert at.number_input(key="url_at").value == 10**15


def test_a_link_naming_thousands_of_rows_reads_only_the_first_ones():
    at = _run("pages/compare.py", {"m": ",".join(f"org/model-{i}" for i in range(3000))})
    _assert_page_survived(at, {})
    assert any("only the first" in str(w.value) for w in at.warning)
    assert len(at.code) <= 2 * MAX_MODELS  # one echo per unknown key it read
