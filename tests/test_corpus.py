"""The corpus of real-layout results files (tests/data/corpus): every case ranks on the command line and
renders on the Leaderboard, Model and Compare pages; each layout is read as its writer means it.

The cases and what each must show are listed in docs/formats.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.cli import main
from lib.ui.pages import ROOT

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
DEFINITIONS = CORPUS / "definitions"
APP = str(ROOT / "streamlit_app.py")


def rank_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    code = main(["rank", *args, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_template_demo_results_rank_with_unknown_n_shot(capsys):
    """The template's back end writes no shot count: the tasks rank, n-shot is unknown (null)."""
    rows = rank_json(capsys, "--config", str(DEFINITIONS / "template.yaml"))
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) >= {"acme-labs/old-model", "acme-labs/gpt2-demo"}
    old = by_model["acme-labs/old-model"]
    assert old["benchmarks"]["anli_r1"]["raw"] == pytest.approx(0.4)
    assert old["benchmarks"]["anli_r1"]["n_shot"] is None
    assert old["average"] == pytest.approx(35.0)
    assert [r["rank"] for r in rows] == [1, 2]


@pytest.fixture
def corpus_app(monkeypatch: pytest.MonkeyPatch):
    """An AppTest factory over one corpus definition."""

    def open_app(definition: str, page: str | None = None, **params: str) -> AppTest:
        monkeypatch.setenv("LEADERBOARD_CONFIG", str(DEFINITIONS / definition))
        for name in ("LEADERBOARD_RESULTS", "LEADERBOARD_REQUESTS"):
            monkeypatch.delenv(name, raising=False)
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if page:
            for key, value in params.items():
                at.query_params[key] = value
            at.switch_page(page).run()
            assert not at.exception, [e.value for e in at.exception]
        return at

    yield open_app
    st.cache_data.clear()
    st.cache_resource.clear()


def test_template_demo_results_render_on_leaderboard_model_and_compare(corpus_app):
    at = corpus_app("template.yaml")
    frame = at.dataframe[0].value
    assert set(frame["Model"].astype(str)) >= {"acme-labs/old-model", "acme-labs/gpt2-demo"}
    corpus_app("template.yaml", "pages/model.py", model="acme-labs/old-model")
    at = corpus_app(
        "template.yaml",
        "pages/compare.py",
        m="acme-labs/old-model|ac3299b0|float16,acme-labs/gpt2-demo|5d1e0c2a|float16",
    )
    assert not at.info or "Pick 2" not in at.info[0].value


def test_json_output_is_strict_json_with_nulls(capsys):
    """--format json never writes NaN or Infinity: a missing training or score is null."""
    code = main(["rank", "--config", str(DEFINITIONS / "template.yaml"), "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    assert "NaN" not in out and "Infinity" not in out
    rows = json.loads(out, parse_constant=lambda word: pytest.fail(f"non-standard JSON constant {word}"))
    assert all(r["training"] is None and r["step"] is None for r in rows)


def test_csv_output_carries_nulls_not_inf():
    import pandas as pd

    from lib.analysis.leaderboard import null_non_finite

    frame = pd.DataFrame({"model": ["a", "b"], "score": [float("inf"), 1.5], "n": [1, 2]})
    text = null_non_finite(frame).to_csv(index=False)
    assert "inf" not in text
    assert text.splitlines()[1] == "a,,1"
