"""The corpus of real-layout results files (tests/data/corpus): every case ranks on the command line and
renders on the Leaderboard, Model and Compare pages; each layout is read as its writer means it.

The cases and what each must show are listed in docs/formats.md.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.cli import main
from lib.ui.leaderboard import model_from_link
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

    def open_app(definition: str, page: str | None = None, results: str = "", **params: str) -> AppTest:
        monkeypatch.setenv("LEADERBOARD_CONFIG", str(DEFINITIONS / definition))
        for name in ("LEADERBOARD_RESULTS", "LEADERBOARD_REQUESTS"):
            monkeypatch.delenv(name, raising=False)
        if results:
            monkeypatch.setenv("LEADERBOARD_RESULTS", results)
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
    assert set(frame["Model"].map(model_from_link)) >= {"acme-labs/old-model", "acme-labs/gpt2-demo"}
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


def _csv_frames() -> list:
    """Generated frames of every kind of column the CLI writes: numbers of every magnitude, missing and
    non-finite values, booleans, nullable integers and hostile text."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    specials = [0.0, -0.0, 100.0, 1e-5, 1e-4, 1e15, 1e16, 5e-324, 1.7976931348623157e308, 0.1, 1 / 3]
    specials += [math.inf, -math.inf, math.nan, 2.5, 123456789012345678.0]
    texts = [None, "", "a,b", 'x"y', "line\nbreak", " lead", "trail ", "é", "tab\tx", "'q'", "=1+2"]
    texts += ["null", "NaN", "a;b", "\\", '"', '""', "org/model-1", "🦙"]
    frames = []
    for n in (0, 1, 3000):
        values = np.concatenate([rng.uniform(0, 100, n), specials])[: max(n, 1) if n < 3000 else None]
        m = len(values)
        with np.errstate(over="ignore"):  # the largest float times 1e8: an infinity, on purpose
            scaled = rng.permutation(values) * rng.choice([1, 1e-8, 1e8], m)
        frames.append(
            pd.DataFrame(
                {
                    "rank": pd.array([i if i % 7 else None for i in range(m)], dtype="Int64"),
                    "n": np.arange(m),
                    "score": values,
                    "scaled": scaled,
                    "flag": [bool(i % 2) for i in range(m)],
                    "maybe": pd.array([(True, False, None)[i % 3] for i in range(m)], dtype="boolean"),
                    "text": [texts[i % len(texts)] for i in range(m)],
                    "none": [None] * m,
                    'odd "name", here': [f"m{i}" for i in range(m)],
                }
            )
        )
    return frames


@pytest.mark.parametrize("through", ["its own database", "an open database"])
def test_csv_writer_writes_what_pandas_writes(through):
    """The CLI's CSV (DuckDB writes it) is byte for byte pandas' ``to_csv`` with non-finite as empty,
    whether it opens a database for the rows or writes them through one already open (the index's,
    which keeps its own tables)."""
    import io

    import duckdb
    import pandas as pd

    from lib.analysis.leaderboard import null_non_finite
    from lib.cli._common import write_csv

    con = duckdb.connect(":memory:") if through == "an open database" else None
    if con is not None:
        con.execute("CREATE TABLE c0 AS SELECT 42 AS c0")  # a table named like the writer's columns
    frames = _csv_frames()
    frames.append(pd.DataFrame({"when": pd.to_datetime(["2026-01-01", None]), "x": [1.5, None]}))  # pandas
    frames.append(pd.DataFrame({"mixed": [1, "a", None, 2.5]}))  # objects of several kinds: pandas
    for frame in frames:
        ours = io.StringIO()
        write_csv(frame, ours, con)
        assert ours.getvalue() == null_non_finite(frame).to_csv(index=False)
    if con is not None:
        assert con.execute("SELECT * FROM c0").fetchall() == [(42,)]  # still open, its table untouched


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


# ----------------------------------------------------------------------------- lm-eval cases
LM_EVAL = str(DEFINITIONS / "lm_eval.yaml")
CASES = CORPUS / "cases"


def case_rows(capsys, case: str, *extra: str) -> list[dict]:
    return rank_json(capsys, "--config", LM_EVAL, "--results", str(CASES / case), *extra)


def case_index(case: str):
    from lib.core.config import load_definition
    from lib.index import build_index

    return build_index(load_definition(LM_EVAL), str(CASES / case), "")


def test_group_missing_from_the_n_shot_block_ranks_with_unknown_n_shot(capsys):
    (row,) = case_rows(capsys, "groups")
    assert row["benchmarks"]["mmlu"]["raw"] == pytest.approx(0.61)
    assert row["benchmarks"]["mmlu"]["n_shot"] is None
    # the definition's filtered metric: strict-match, not flexible-extract
    assert row["benchmarks"]["gsm8k"]["raw"] == pytest.approx(0.42)


def test_each_n_shot_of_one_model_is_one_complete_row(capsys):
    """A 0-shot run in one file and a 5-shot run in two files: two complete rows, not three partial ones."""
    rows = case_rows(capsys, "shots")
    assert len(rows) == 2
    shots = sorted(
        (r["split_by"], r["benchmarks"]["arc_easy"]["n_shot"], r["benchmarks"]["hellaswag"]["n_shot"])
        for r in rows
    )
    assert shots == [("0-shot", 0, 0), ("5-shot", 5, 5)]


def test_score_changing_model_args_split_rows_and_placement_args_do_not(capsys):
    rows = case_rows(capsys, "model_args")
    by_setting = {r["setting"]: r["benchmarks"]["arc_easy"]["raw"] for r in rows}
    # add_bos_token=True is its own row; parallelize=True merges with the plain run (newest wins)
    assert by_setting == {"add_bos_token=True": pytest.approx(0.58), None: pytest.approx(0.32)}
    report = case_index("model_args").problems()
    (line,) = report[report["level"] == "warning"].itertuples()
    assert line.path.endswith("results_2025-03-05T10-00-00.000000.json")
    assert "results_2025-03-07T10-00-00.000000.json" in line.reason and "it is newer" in line.reason


def test_task_versions_are_never_mixed(capsys):
    rows = case_rows(capsys, "versions")
    assert sorted(r["benchmarks"]["hellaswag"]["raw"] for r in rows) == [
        pytest.approx(0.40),
        pytest.approx(0.45),
    ]
    assert sorted(r["split_by"] for r in rows) == ["hellaswag v1.0", "hellaswag v2.0"]


def test_hub_ids_are_case_insensitive_and_shown_in_one_casing(capsys):
    (row,) = case_rows(capsys, "casing")
    assert row["model"] == "Qwen/Qwen2.5-7B"  # the newest file's casing (no request names the model)
    assert row["benchmarks"]["arc_easy"]["raw"] == pytest.approx(0.8)
    assert row["benchmarks"]["hellaswag"]["raw"] == pytest.approx(0.7)


def test_hub_casing_comes_from_the_request_when_there_is_one(tmp_path, capsys):
    from tests.factories import request_file

    requests = tmp_path / "requests"
    request_file(requests, "QWEN/qwen2.5-7b", status="FINISHED")
    (row,) = case_rows(capsys, "casing", "--requests", str(requests))
    assert row["model"] == "QWEN/qwen2.5-7b"


def test_adapters_are_their_own_models_with_the_base_shown_and_dot_folders_are_read(capsys):
    rows = {r["model"]: r for r in case_rows(capsys, "peft")}
    assert set(rows) == {"acme-labs/base-7b", "acme-labs/lora-chat", "../adapters/my-lora"}
    assert rows["acme-labs/lora-chat"]["base_model"] == "acme-labs/base-7b"
    assert rows["../adapters/my-lora"]["base_model"] == "acme-labs/base-7b"  # from the '..__' folder
    assert rows["acme-labs/base-7b"]["base_model"] is None


def test_local_path_models_keep_their_whole_path(capsys):
    rows = case_rows(capsys, "local_paths")
    assert sorted(r["model"] for r in rows) == ["/data/llama/13B", "/mnt/vicuna/13B"]


def test_api_and_server_models_are_read_with_their_backend(capsys):
    rows = {r["model"]: r for r in case_rows(capsys, "api")}
    assert rows["acme-labs/served-7b"]["backend"] == "local-completions"
    assert rows["gpt-4o-mini"]["backend"] == "openai-chat-completions"
    assert "tokenized_requests=False" in rows["acme-labs/served-7b"]["setting"]
    assert "base_url" not in rows["acme-labs/served-7b"]["setting"]  # where the server runs: placement
    assert rows["gpt-4o-mini"]["benchmarks"]["gsm8k"]["raw"] == pytest.approx(0.88)


def test_every_skipped_file_is_a_report_row():
    report = case_index("skipped").problems()
    skipped = report[report["level"] == "skipped"]
    assert set(skipped["path"]) == {
        "README.md",
        "acme-labs__group-7b/results_2025-03-01T10-00-00.000000.json.log",
    }
    assert (skipped["reason"] == "not a results file (only *.json files are read)").all()


def test_hidden_entries_other_than_lm_eval_path_folders_are_reported(tmp_path):
    from lib.stores import LocalFileStore

    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / "..__x").mkdir()
    (tmp_path / "..__x" / "results_1.json").write_text("{}")
    (tmp_path / ".results_1.json.abc.tmp").write_text("{}")  # an atomic write in flight
    listed = {f.path: f for f in LocalFileStore(tmp_path).list_files((".json",), irregular=True)}
    assert set(listed) == {".git", "..__x/results_1.json"}
    assert listed[".git"].skipped and not listed["..__x/results_1.json"].problem


@pytest.mark.parametrize(
    "case", ["groups", "shots", "model_args", "versions", "casing", "peft", "local_paths", "api"]
)
def test_every_lm_eval_case_renders_on_leaderboard_model_and_compare(corpus_app, case):
    results = str(CASES / case)
    at = corpus_app("lm_eval.yaml", results=results)
    frame = at.dataframe[0].value
    assert len(frame) >= 1
    at = corpus_app("lm_eval.yaml", "pages/model.py", results=results)
    assert at.selectbox, "the model page shows no model picker"
    corpus_app("lm_eval.yaml", "pages/compare.py", results=results)


def test_filtered_metrics_keep_their_comma_in_the_benchmark_list(capsys):
    from lib.analysis.ranking import split_benchmark_list

    assert split_benchmark_list("gsm8k:exact_match,strict-match,gpqa", ["gpqa"]) == [
        "gsm8k:exact_match,strict-match",
        "gpqa",
    ]
    assert split_benchmark_list("a:acc,b:acc_norm,none") == ["a:acc", "b:acc_norm,none"]
    rows = case_rows(
        capsys,
        "api",
        "--benchmarks",
        "gsm8k:exact_match,flexible-extract,gsm8k:exact_match,strict-match,arc_easy",
    )
    served = next(r for r in rows if r["model"] == "acme-labs/served-7b")["benchmarks"]
    assert served["gsm8k:exact_match,flexible-extract"]["raw"] == pytest.approx(0.55)
    assert served["gsm8k:exact_match,strict-match"]["raw"] == pytest.approx(0.5)
    assert served["arc_easy"]["raw"] is None
    assert served["gsm8k:exact_match,strict-match"]["filter"] == "strict-match"
    (group,) = case_rows(capsys, "groups")
    assert group["benchmarks"]["mmlu"]["metric"] == "acc" and group["benchmarks"]["mmlu"]["filter"] is None


# ----------------------------------------------------------------------------- table sources
TABLES = CORPUS / "tables"
OLL_CSV = str(TABLES / "open_llm_contents.csv")


def test_open_llm_leaderboard_contents_is_that_leaderboard(capsys):
    """The demo definition's six benchmarks are the OLL v2 columns: point --results at a snapshot."""
    rows = {r["model"]: r for r in rank_json(capsys, "--results", OLL_CSV)}
    assert set(rows) == {"acme-labs/Falcon-Mini-7B-Instruct", "acme-labs/Falcon-Mini-7B"}  # flagged hidden
    chat = rows["acme-labs/Falcon-Mini-7B-Instruct"]
    assert chat["benchmarks"]["gpqa"]["raw"] == pytest.approx(0.31)
    assert chat["benchmarks"]["gpqa"]["normalized"] == pytest.approx(8.0)  # (0.31 - 0.25) / 0.75
    assert chat["benchmarks"]["bbh"]["normalized"] == pytest.approx(31.5)  # the table's, not recomputed
    assert chat["average"] == pytest.approx((71 + 31.5 + 18 + 8 + 9.8 + 25 / 0.9) / 6)
    assert chat["sha"] == "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    assert chat["base_model"] == "acme-labs/Falcon-Mini-7B" and chat["chat_template"] is True
    flagged = rank_json(capsys, "--results", OLL_CSV, "--show-flagged")
    assert "someone/mega-merge-12B" in {r["model"] for r in flagged}


def test_open_llm_leaderboard_metadata_maps_to_our_columns():
    from lib.analysis.leaderboard import LeaderboardView, build_table
    from lib.core.config import load_definition
    from lib.index import build_index

    definition = load_definition("demo")
    index = build_index(definition, OLL_CSV, "")
    frame = build_table(index, definition, LeaderboardView(hide=())).frame.set_index("model")
    merge = frame.loc["someone/mega-merge-12B"]
    assert merge["license"] == "cc-by-nc-4.0" and merge["params"] == pytest.approx(12.2)
    assert bool(merge["merged"]) and bool(merge["moe"]) and merge["flagged"]
    assert merge["likes"] == 3 and merge["architecture"] == "MistralForCausalLM"
    assert "merges" in merge["model_type"]
    report = index.problems()
    assert set(report["reason"]) == {
        "table row: no model name",
        "table row: no numeric score in any benchmark column",
    }
    assert index.counts()["requests"] == 0


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_open_llm_leaderboard_contents_read_as_parquet_and_json_lines(tmp_path, capsys, fmt):
    import duckdb

    if fmt == "parquet":
        target = tmp_path / "contents.parquet"
        duckdb.read_csv(OLL_CSV, header=True).write_parquet(str(target))
    else:
        target = TABLES / "open_llm_contents.jsonl"
    rows = {r["model"]: r for r in rank_json(capsys, "--results", str(target))}
    assert rows["acme-labs/Falcon-Mini-7B"]["benchmarks"]["mmlu_pro"]["raw"] == pytest.approx(0.29)


def test_long_table_checkpoint_series_and_unreadable_rows(capsys):
    tables = str(DEFINITIONS / "tables.yaml")
    code = main(
        ["checkpoints", "--config", tables, "--task", "hellaswag", "--metric", "acc", "--format", "json"]
    )
    out = capsys.readouterr().out
    assert code == 0
    (series,) = json.loads(out)
    assert series["training"] == "acme-labs/olmo-mini" and series["n_checkpoints"] == 4
    assert series["best_revision"] == "stage1-step8000-tokens34B"
    from lib.core.config import load_definition
    from lib.index import build_index

    report = build_index(load_definition(tables)).problems()
    reasons = sorted(report["reason"])
    assert reasons == ["table row: no model name", "table row: value 'n/a' is not a finite number"]
    assert all("checkpoints_long.csv#row " in p for p in report["path"])


def test_any_other_table_through_a_column_mapping(capsys):
    rows = {r["model"]: r for r in rank_json(capsys, "--config", str(DEFINITIONS / "tables.yaml"))}
    assert rows["team/exp-a"]["benchmarks"]["hellaswag"]["raw"] == pytest.approx(0.61)
    assert rows["team/exp-b"]["benchmarks"]["arc_easy"]["n_shot"] == 0


def test_a_table_in_no_known_layout_is_one_report_row(tmp_path):
    from lib.core.config import load_definition
    from lib.index import build_index

    odd = tmp_path / "odd.csv"
    odd.write_text("who,what\na,b\n")
    report = build_index(load_definition("demo"), str(odd), "").problems()
    (line,) = report.itertuples()
    assert line.level == "error" and "match no known layout" in line.reason


def test_tables_render_on_leaderboard_model_compare_and_checkpoints(corpus_app):
    at = corpus_app("tables.yaml")
    assert len(at.dataframe[0].value) == 6
    corpus_app("tables.yaml", "pages/model.py", model="acme-labs/olmo-mini")
    corpus_app("tables.yaml", "pages/compare.py", m="team/exp-a|main|,team/exp-b|main|")
    at = corpus_app("tables.yaml", "pages/checkpoints.py")
    assert not at.exception


def test_open_llm_leaderboard_snapshot_renders_on_the_pages(corpus_app):
    demo = str(ROOT / "lib" / "definitions" / "demo.yaml")
    at = corpus_app(demo, results=OLL_CSV)
    frame = at.dataframe[0].value
    assert set(frame["Model"].map(model_from_link)) == {
        "acme-labs/Falcon-Mini-7B-Instruct",
        "acme-labs/Falcon-Mini-7B",
    }
    corpus_app(demo, "pages/model.py", results=OLL_CSV, model="acme-labs/Falcon-Mini-7B")
    corpus_app(
        demo,
        "pages/compare.py",
        results=OLL_CSV,
        m="acme-labs/Falcon-Mini-7B|0f1e2d3c4b5a69788796a5b4c3d2e1f009876543|bfloat16,"
        "acme-labs/Falcon-Mini-7B-Instruct|a1b2c3d4e5f60718293a4b5c6d7e8f9012345678|bfloat16",
    )


def test_a_table_from_a_hub_dataset_repo(tmp_path, monkeypatch, capsys):
    """`hub:org/name/path` downloads the file through huggingface_hub (the Hub test server here)."""
    from huggingface_hub import constants

    from tests.hub_server import HubServer

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    with HubServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        server.add_repo(
            "snapshots/contents", {"data/contents.csv": Path(OLL_CSV).read_bytes()}, repo_type="dataset"
        )
        rows = rank_json(capsys, "--results", "hub:snapshots/contents/data/contents.csv")
        assert {r["model"] for r in rows} == {"acme-labs/Falcon-Mini-7B-Instruct", "acme-labs/Falcon-Mini-7B"}
        from lib.core.config import load_definition
        from lib.index import build_index

        report = build_index(
            load_definition("demo"), "hub:snapshots/contents/data/missing.csv", ""
        ).problems()
        assert "cannot download it from the Hub" in report["reason"].iloc[0]


def test_leaderboard_shows_what_sets_rows_apart_and_no_hub_link_for_folders():
    from lib.analysis.leaderboard import LeaderboardView, build_table, display_frame
    from lib.core.config import load_definition
    from lib.index import build_index

    definition = load_definition(LM_EVAL)
    shown = {}
    for case in ("shots", "model_args", "local_paths", "api"):
        index = build_index(definition, str(CASES / case), "")
        frame = display_frame(build_table(index, definition, LeaderboardView()), raw=False)
        shown[case] = frame
    assert sorted(shown["shots"]["Setting"]) == ["0-shot", "5-shot"]
    assert sorted(shown["model_args"]["Setting"]) == ["", "add_bos_token=True"]
    assert shown["local_paths"]["Hub"].isna().all()
    assert set(shown["api"]["Backend"]) == {"local-completions", "openai-chat-completions"}


def test_duplicate_report_says_a_tie_was_broken_by_path_when_no_file_has_a_date(tmp_path):
    import shutil

    from lib.core.config import load_definition
    from lib.index import build_index

    source = next((CASES / "local_paths").glob("__data__llama__13B/*.json"))  # a file without a date
    for name in ("results_a.json", "results_b.json"):
        (tmp_path / "run").mkdir(exist_ok=True)
        shutil.copy(source, tmp_path / "run" / name)
    report = build_index(load_definition(LM_EVAL), str(tmp_path), "").problems()
    (line,) = report.itertuples()
    assert line.path == "run/results_a.json" and "run/results_b.json" in line.reason
    assert "tie was broken by path" in line.reason and "newer" not in line.reason


def test_files_that_differ_in_a_task_version_are_not_reported_as_duplicates():
    assert case_index("versions").problems().empty


def test_model_page_tells_rows_of_one_model_apart(corpus_app):
    at = corpus_app(
        "lm_eval.yaml", "pages/model.py", results=str(CASES / "shots"), model="acme-labs/shots-7b"
    )
    options = [str(o) for o in at.selectbox[1].options]
    assert len(options) == 2 and any("0-shot" in o for o in options) and any("5-shot" in o for o in options)


def test_rank_says_when_a_table_could_not_be_read(tmp_path, capsys, monkeypatch):
    """A results table a stranger wrote (unbalanced quote) leaves the ranking empty, and rank says why
    to look, instead of printing '(no rows)' alone."""
    monkeypatch.setenv("LEADERBOARD_CACHE", "off")
    table = tmp_path / "bad.csv"
    table.write_text('model,GPQA\n"org/a,0.5\norg/b,abc\n', encoding="utf-8")
    code = main(["rank", "--results", str(table), "--format", "table"])
    out = capsys.readouterr()
    assert code == 0
    assert "(no rows)" in out.out
    assert "1 file(s) could not be read" in out.err and "python -m lib check" in out.err


def test_python_m_lib_ends_a_read_only_command_with_all_its_output(capsys, monkeypatch, tmp_path):
    """``python -m lib rank`` and ``check`` end their process without tearing the interpreter down
    (lib.cli.entry): the whole CSV still arrives, byte for byte what ``main`` prints, and the exit
    code is the command's (check: 1 when a file failed)."""
    import os
    import subprocess
    import sys

    monkeypatch.setenv("LEADERBOARD_CACHE", str(tmp_path / "cache"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    definition = ["--config", str(DEFINITIONS / "template.yaml")]
    for args, expected_code in (
        (["rank", "--format", "csv", *definition], 0),
        (["check", "--format", "csv", *definition, "--results", str(CORPUS / "bad")], 1),
    ):
        assert main(args) == expected_code
        in_process = capsys.readouterr().out
        done = subprocess.run(
            [sys.executable, "-m", "lib", *args], capture_output=True, env=env, timeout=300, check=False
        )
        assert done.returncode == expected_code, done.stderr.decode()
        assert done.stdout.decode() == in_process and in_process.count("\n") > 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_python_m_lib_says_when_its_output_could_not_be_written(monkeypatch, tmp_path, unbuffered):
    """Output to a full disk (``/dev/full``) is an error, said on stderr, with exit code 2: never a
    silent success with the output lost (the last flush happens just before ``os._exit``)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env["LEADERBOARD_CACHE"] = str(tmp_path / "cache")
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    for command in ("rank", "check"):
        args = [command, "--format", "json", "--config", str(DEFINITIONS / "template.yaml")]
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [sys.executable, "-m", "lib", *args], stdout=full, stderr=subprocess.PIPE,
                env=env, timeout=300, check=False,
            )  # fmt: skip
        assert done.returncode == 2, (command, done.returncode, done.stderr.decode())
        assert "error:" in done.stderr.decode() and "No space left" in done.stderr.decode()
