"""The search-box grammar: each query against a small literal table gives an exact set of models."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lib.analysis.search import DEFAULT_FIELD_NAMES, Term, describe_syntax, parse_query, search_mask

FIELDS = {
    "model": "model",
    "license": "license",
    "hub license": "license",
    "type": "type",
    "precision": "precision",
    "architecture": "architecture",
    "params": "params",
}
DEFAULT_COLUMNS = ("model",)


@pytest.fixture()
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": [
                "meridian/Meridian-7B",
                "acme/meridian-chat-7b",
                "Org/Llama-3.1-8B-Instruct",
                "tiny/gpt2:q4",
                "mix/Frankenmerge-13B",
                "solo/Nolicense-1B",
            ],
            "license": ["MIT", "apache 2.0", "llama3.1", "mit", "cc-by-nc-4.0", np.nan],
            "type": ["pretrained", "chat", "chat", "fine-tuned", "merge", "pretrained"],
            "precision": ["bfloat16", "float16", "bfloat16", "float32", "bfloat16", None],
            "architecture": [
                "LlamaForCausalLM",
                "LlamaForCausalLM",
                "LlamaForCausalLM",
                "GPT2LMHeadModel",
                "MistralForCausalLM",
                np.nan,
            ],
            "params": [7.2, 7.0, 8.0, 0.1, 13.0, np.nan],
        },
        index=[10, 11, 12, 13, 14, 15],
    )


def models(frame: pd.DataFrame, text: str) -> set[str]:
    result = search_mask(frame, text, FIELDS, DEFAULT_COLUMNS)
    assert result.mask.index.equals(frame.index)
    assert result.mask.dtype == bool
    return set(frame.loc[result.mask, "model"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("meridian", {"meridian/Meridian-7B", "acme/meridian-chat-7b"}),
        ("MERIDIAN", {"meridian/Meridian-7B", "acme/meridian-chat-7b"}),
        ("meridian 7b", {"meridian/Meridian-7B", "acme/meridian-chat-7b"}),
        ("meridian chat", {"acme/meridian-chat-7b"}),
        ("llama-3.1", {"Org/Llama-3.1-8B-Instruct"}),
        ("nothing-like-this", set()),
    ],
)
def test_free_text_searches_model_names_case_insensitively_and_ands_words(frame, text, expected):
    assert models(frame, text) == expected


def test_semicolon_separates_alternatives(frame):
    assert models(frame, "gpt2; frankenmerge ;") == {"tiny/gpt2:q4", "mix/Frankenmerge-13B"}


@pytest.mark.parametrize(
    "text", ["@license:mit", "license: mit", "license:mit", "Hub License: mit", "@LICENSE:MIT"]
)
def test_license_filters_in_every_spelling(frame, text):
    assert models(frame, text) == {"meridian/Meridian-7B", "tiny/gpt2:q4"}


def test_substring_matching_is_loose_and_an_anchor_tightens_it(frame):
    assert models(frame, "@precision:float16") == {
        "meridian/Meridian-7B",
        "acme/meridian-chat-7b",
        "Org/Llama-3.1-8B-Instruct",
        "mix/Frankenmerge-13B",
    }
    assert models(frame, "@precision:^float16$") == {"acme/meridian-chat-7b"}


def test_field_filters_and_free_text_are_anded(frame):
    assert models(frame, "@license:mit @precision:bfloat16") == {"meridian/Meridian-7B"}
    assert models(frame, "@type:chat llama") == {"Org/Llama-3.1-8B-Instruct"}
    assert models(frame, "Hub License: mit gpt2") == {"tiny/gpt2:q4"}


def test_alternatives_of_combinations(frame):
    assert models(frame, "@type:chat @precision:^float16; @type:merge") == {
        "acme/meridian-chat-7b",
        "mix/Frankenmerge-13B",
    }


def test_quoted_values_hold_spaces(frame):
    assert models(frame, '@license:"apache 2.0"') == {"acme/meridian-chat-7b"}
    assert models(frame, 'license: "apache 2.0" meridian') == {"acme/meridian-chat-7b"}
    assert models(frame, '"meridian-chat"') == {"acme/meridian-chat-7b"}


def test_quoted_value_keeps_a_semicolon(frame):
    query = parse_query('"a;b"; c')
    assert [t.value for a in query.alternatives for t in a.terms] == ["a;b", "c"]


def test_regex_values(frame):
    assert models(frame, "^meridian") == {"meridian/Meridian-7B"}
    assert models(frame, "@architecture:^llama.*lm$") == {
        "meridian/Meridian-7B",
        "acme/meridian-chat-7b",
        "Org/Llama-3.1-8B-Instruct",
    }
    assert models(frame, r"\d+b$") == {
        "meridian/Meridian-7B",
        "acme/meridian-chat-7b",
        "mix/Frankenmerge-13B",
        "solo/Nolicense-1B",
    }
    assert models(frame, "@precision:^float(16|32)") == {"acme/meridian-chat-7b", "tiny/gpt2:q4"}


def test_a_dot_alone_is_literal(frame):
    # "3.1" as a regex would also match "3x1"; here it must be a plain substring.
    assert parse_query("llama3.1").alternatives[0].terms[0].looks_like_regex is False
    assert models(frame, "@license:llama3.1") == {"Org/Llama-3.1-8B-Instruct"}


def test_invalid_regex_falls_back_to_plain_text_with_a_notice(frame):
    result = search_mask(frame, "[abc", FIELDS, DEFAULT_COLUMNS)
    assert not result.mask.any()
    assert len(result.notices) == 1
    assert "'[abc' is not a valid regular expression" in result.notices[0]
    assert "searched it as plain text" in result.notices[0]

    frame.loc[10, "model"] = "odd/[abc-model"
    result = search_mask(frame, "[abc", FIELDS, DEFAULT_COLUMNS)
    assert set(frame.loc[result.mask, "model"]) == {"odd/[abc-model"}


def test_unknown_field_is_ignored_with_a_notice_naming_known_fields(frame):
    result = search_mask(frame, "@colour:blue meridian", FIELDS, DEFAULT_COLUMNS)
    assert set(frame.loc[result.mask, "model"]) == {"meridian/Meridian-7B", "acme/meridian-chat-7b"}
    assert len(result.notices) == 1
    assert "colour" in result.notices[0]
    assert "license" in result.notices[0] and "precision" in result.notices[0]


def test_unknown_field_alone_does_not_empty_the_table(frame):
    result = search_mask(frame, "@colour:blue", FIELDS, DEFAULT_COLUMNS)
    assert result.mask.all()
    assert result.notices


def test_an_alternative_made_only_of_unknown_fields_does_not_widen_the_others(frame):
    assert models(frame, "gpt2; @colour:blue") == {"tiny/gpt2:q4"}


def test_field_pointing_at_a_missing_column_is_ignored_with_a_notice(frame):
    result = search_mask(frame, "@sha:abc", {**FIELDS, "sha": "model_sha"}, DEFAULT_COLUMNS)
    assert result.mask.all()
    assert "sha" in result.notices[0]


def test_negation(frame):
    assert models(frame, "meridian -chat") == {"meridian/Meridian-7B"}
    assert models(frame, "-@type:chat -@type:merge") == {
        "meridian/Meridian-7B",
        "tiny/gpt2:q4",
        "solo/Nolicense-1B",
    }
    # A row without a license is not an MIT row, so excluding MIT keeps it.
    assert "solo/Nolicense-1B" in models(frame, "-@license:mit")
    assert models(frame, "-license: mit -@type:chat") == {"mix/Frankenmerge-13B", "solo/Nolicense-1B"}


def test_dash_inside_a_word_or_quoted_is_not_negation(frame):
    assert models(frame, '"-7b"') == {"meridian/Meridian-7B", "acme/meridian-chat-7b"}
    assert models(frame, "chat-7b") == {"acme/meridian-chat-7b"}


@pytest.mark.parametrize("text", ["", "   ", ";", " ; ;", "@license:", "-"])
def test_empty_query_keeps_every_row(frame, text):
    result = search_mask(frame, text, FIELDS, DEFAULT_COLUMNS)
    assert result.mask.all()
    assert result.notices == ()


def test_model_id_with_colon_is_free_text(frame):
    assert models(frame, "tiny/gpt2:q4") == {"tiny/gpt2:q4"}
    assert models(frame, "gpt2:q4") == {"tiny/gpt2:q4"}
    term = parse_query("tiny/gpt2:q4").alternatives[0].terms[0]
    assert term == Term(value="tiny/gpt2:q4", source="tiny/gpt2:q4")


def test_unknown_old_style_prefix_stays_free_text(frame):
    query = parse_query("colour: blue", FIELDS)
    assert [(t.field, t.value) for t in query.alternatives[0].terms] == [(None, "colour:"), (None, "blue")]


def test_nan_values_never_match_and_are_not_the_text_nan(frame):
    assert models(frame, "@license:nan") == set()
    assert models(frame, "@precision:none") == set()
    assert models(frame, "@architecture:LM") == set(frame["model"]) - {"solo/Nolicense-1B"}


def test_non_string_columns_are_searched_as_text(frame):
    assert models(frame, "@params:^7") == {"meridian/Meridian-7B", "acme/meridian-chat-7b"}


def test_multi_word_fields_in_every_spelling():
    query = parse_query("@weight type:delta @hub_license:mit Weight Type: adapter", DEFAULT_FIELD_NAMES)
    assert [(t.field, t.value) for t in query.alternatives[0].terms] == [
        ("weight type", "delta"),
        ("hub license", "mit"),
        ("weight type", "adapter"),
    ]


def test_parse_query_is_inspectable():
    query = parse_query('@license:mit -"a b"; ^x')
    assert query.text == '@license:mit -"a b"; ^x'
    first, second = query.alternatives
    assert first.terms == (
        Term(value="mit", field="license", source="@license:mit"),
        Term(value="a b", negated=True, quoted=True, source='-"a b"'),
    )
    assert second.terms[0].looks_like_regex
    assert parse_query("").is_empty


def test_describe_syntax_mentions_every_feature():
    help_text = describe_syntax()
    for token in (";", "@license:", "Hub License:", '"', "^meridian", "-@type:"):
        assert token in help_text


def test_user_patterns_do_not_spill_warnings_into_the_log(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert models(frame, "@precision:^float(16|32)$") == {"acme/meridian-chat-7b", "tiny/gpt2:q4"}
        assert models(frame, "@license:[[m]it") == {"meridian/Meridian-7B", "tiny/gpt2:q4"}


# --------------------------------------------------------------------------- patterns never backtrack
CATASTROPHIC = ["(a+)+$", "(a|a)*$", "(a|aa)+$", "(.*a){20}$", "^(a+)+b", "(x+x+)+y", "(\\w+\\s?)+$"]


@pytest.fixture()
def no_backtracking_engine(monkeypatch):
    """Python's ``re`` (the backtracking engine) fails the test if it sees a user pattern."""
    import re

    original = re._compile  # every re function (compile, search, pandas' str.contains) goes through it

    def guarded(pattern, flags):
        if isinstance(pattern, str) and pattern in CATASTROPHIC:
            raise AssertionError(f"user pattern {pattern!r} reached Python's re")
        return original(pattern, flags)

    monkeypatch.setattr(re, "_compile", guarded)


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_run_on_the_linear_engine(pattern, no_backtracking_engine):
    import signal

    name = "a" * 90 + "!"  # 91 characters: a backtracking engine would need about 2^90 steps
    frame = pd.DataFrame({"model": [name, "org/aaaa", None], "license": ["mit", "mit", "mit"]})

    def too_slow(*_):
        raise AssertionError(f"{pattern!r} against a 90-character name did not return within 20 s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)  # generous: RE2 answers in well under a millisecond here
    try:
        result = search_mask(frame, pattern, FIELDS, DEFAULT_COLUMNS)
        fielded = search_mask(frame, f"@license:{pattern}", FIELDS, DEFAULT_COLUMNS)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.mask.dtype == bool and len(result.mask) == 3
    assert fielded.mask.dtype == bool and not fielded.notices


def test_the_regex_bomb_still_matches_what_it_means():
    frame = pd.DataFrame({"model": ["a" * 90, "a" * 90 + "!", "b"]})
    assert search_mask(frame, "(a+)+$", {"model": "model"}, ("model",)).mask.tolist() == [True, False, False]


@pytest.mark.parametrize("pattern", ["(?=a)b", "(a)\\1", "a{1000}{1000}", "((a{100}){100}){100}", "(?<!x)y"])
def test_what_re2_refuses_is_searched_as_text_with_a_notice(frame, pattern):
    result = search_mask(frame, pattern, FIELDS, DEFAULT_COLUMNS)
    assert not result.mask.any()
    assert len(result.notices) == 1 and "searched it as plain text" in result.notices[0]
    assert len(result.notices[0]) < 400


def test_an_enormous_query_is_cut_with_a_notice(frame):
    result = search_mask(frame, "meridian " + "x" * 100_000, FIELDS, DEFAULT_COLUMNS)
    assert any("longer than" in n for n in result.notices)
