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
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))


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


def _template_index():
    from lib.core.config import load_definition
    from lib.index import build_index

    definition = load_definition(DEFINITIONS / "template.yaml")
    return build_index(definition)


def test_template_files_keep_limit_n_shot_and_the_date_in_a_name_with_a_space():
    index = _template_index()
    rows = index.con.execute(
        "SELECT model, limit_n, date, source_format FROM evaluations ORDER BY model"
    ).fetchall()
    by_model = {model: (limit, date, fmt) for model, limit, date, fmt in rows}
    assert all(fmt == "template" for _, _, fmt in by_model.values())
    # results_2024-04-11 15:27:50.123456.json: the template names files after datetime.now()
    assert by_model["acme-labs/flat-model"][1] == pytest.approx(1712849270.123456)
    assert by_model["acme-labs/quick-model"][0] == 10.0  # a --limit run stays partial
    shots = dict(
        index.con.execute(
            "SELECT e.model, max(s.n_shot) FROM scores s JOIN evaluations e USING (eval_id) GROUP BY e.model"
        ).fetchall()
    )
    assert shots["acme-labs/flat-model"] == 0  # config.num_fewshot
    assert shots["acme-labs/old-model"] is None  # none written: unknown, not zero


def test_template_file_with_lm_eval_04_keys_takes_its_model_from_config_model_name(capsys):
    """An n-shot block and filtered keys do not make a template file an lm-eval 0.4 file."""
    index = _template_index()
    assert index.problems().empty
    rows = rank_json(capsys, "--config", str(DEFINITIONS / "template.yaml"))
    modern = next(r for r in rows if r["model"] == "acme-labs/modern-model")
    assert modern["benchmarks"]["logiqa"]["raw"] == pytest.approx(0.31)
    assert modern["benchmarks"]["anli_r1"]["stderr"] == pytest.approx(0.0157)
    assert modern["sha"] == "77aa01c3"
    assert "acme-labs/quick-model" not in {r["model"] for r in rows}  # partial: hidden by default
    partial = rank_json(capsys, "--config", str(DEFINITIONS / "template.yaml"), "--include-partial")
    assert "acme-labs/quick-model" in {r["model"] for r in partial}
