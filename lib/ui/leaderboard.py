"""Widgets of the leaderboard page: the controls (all URL-backed), the table and the downloads."""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Callable
from urllib.parse import quote_plus

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from lib.analysis.leaderboard import (
    ALWAYS_SHOWN,
    DEFAULT_COLUMNS,
    HIDE_OPTIONS,
    OPTIONAL_COLUMNS,
    SIZE_BUCKET_HELP,
    SIZE_BUCKETS,
    LeaderboardTable,
    LeaderboardView,
    build_table,
    descending_first,
    display_frame,
    null_non_finite,
    order_options,
    unfiltered_frame,
)
from lib.analysis.search import describe_syntax
from lib.core.config import Definition
from lib.index import Index
from lib.ui import memo, pages, state
from lib.ui.state import Setting
from lib.ui.tables import show_table
from lib.ui.text import plain

HIDE_LABELS = {"flagged": "Flagged", "merged": "Merges", "moe": "MoE", "deleted": "Deleted from the Hub"}
MAX_PARAMS = 1000.0
MAX_WEIGHT = 100.0


def settings(definition: Definition) -> list[Setting]:
    """Every control of the page, with its URL key and default."""
    bench_ids = tuple(b.id for b in definition.benchmarks)
    return [
        Setting("q", "str", ""),
        Setting("view", "str", "normalized", ("normalized", "raw")),
        Setting("by", "str", "average", ("average", *bench_ids)),
        Setting("bench", "list", list(bench_ids), bench_ids),
        Setting("cat", "list", [], tuple(c.id for c in definition.categories)),
        Setting("prec", "list", [], definition.precisions),
        Setting("wt", "list", [], definition.weight_types),
        Setting("size", "list", [], tuple(SIZE_BUCKETS)),
        Setting("pmin", "float", 0.0, minimum=0.0, maximum=MAX_PARAMS),
        Setting("pmax", "float", MAX_PARAMS, minimum=0.0, maximum=MAX_PARAMS),
        Setting("hide", "list", ["flagged"], HIDE_OPTIONS),
        Setting("official", "bool", False),
        Setting("best", "bool", False),
        Setting("partial", "bool", False),
        Setting("weighted", "bool", False),
        *[Setting(f"w_{b}", "float", 1.0, minimum=0.0, maximum=MAX_WEIGHT) for b in bench_ids],
        Setting("order", "str", "rank", tuple(order_options(definition.benchmarks))),
        Setting("desc", "bool", True),
        Setting("cols", "list", list(DEFAULT_COLUMNS), OPTIONAL_COLUMNS),
    ]


def controls(definition: Definition, url: list[Setting]) -> LeaderboardView:
    """Draw the controls and return the view they describe."""
    by_key = {s.key: s for s in url}
    names = {b.id: b.name for b in definition.benchmarks}
    _keep_selection_valid(by_key, names)
    st.text_input(
        "Search",
        key=by_key["q"].widget_key,
        placeholder="Search models, Enter applies: llama; @license:mit @precision:bfloat16 @type:chat  (; separates alternatives)",
        help=describe_syntax(),
        label_visibility="collapsed",
    )
    categories = {c.id: c.label for c in definition.categories}
    if categories:  # on the first screen, like the Open LLM Leaderboard's type chips
        st.pills("Model types", list(categories), format_func=lambda k: str(categories.get(k, k)), selection_mode="multi",
                 key=by_key["cat"].widget_key, label_visibility="collapsed")  # fmt: skip
    top = st.columns([1.2, 1.2, 2.6])
    top[0].segmented_control(
        "Scores",
        ["normalized", "raw"],
        key=by_key["view"].widget_key,
        help="Normalized: max(0, raw - random baseline) / (1 - baseline) x 100. Raw: lm-eval's score in %.",
    )
    chosen = list(state.value(by_key["bench"]))
    top[1].selectbox(
        "Rank by",
        ["average", *chosen],
        format_func=lambda v: "Average" if v == "average" else names.get(v, v),
        key=by_key["by"].widget_key,
    )
    top[2].multiselect(
        "Benchmarks", list(names), format_func=lambda k: str(names.get(k, k)), key=by_key["bench"].widget_key
    )
    filters = st.expander("Filters", key=FILTERS_KEY, on_change="rerun")  # drawn only when open
    low, high = sorted((float(state.value(by_key["pmin"])), float(state.value(by_key["pmax"]))))
    with filters:
        if not filters.open:
            state.keep_undrawn(
                [by_key[k] for k in ("size", "prec", "wt", "hide", "official", "best", "partial")]
            )
            st.caption(_filters_summary(by_key))
    if filters.open:
        cols = filters.columns(3)
        cols[0].pills("Sizes", list(SIZE_BUCKETS), selection_mode="multi", key=by_key["size"].widget_key,
                      help=SIZE_BUCKET_HELP)  # fmt: skip
        cols[1].multiselect("Precision", list(definition.precisions), key=by_key["prec"].widget_key)
        cols[1].multiselect("Weight type", list(definition.weight_types), key=by_key["wt"].widget_key)
        low, high = _params_control(cols[1], by_key["pmin"], by_key["pmax"])
        cols[2].pills("Hide", list(HIDE_OPTIONS), format_func=lambda k: str(HIDE_LABELS.get(k, k)), selection_mode="multi",
                      key=by_key["hide"].widget_key)  # fmt: skip
        cols[2].toggle("Official providers only", key=by_key["official"].widget_key)
        cols[2].toggle("Best checkpoint per training only", key=by_key["best"].widget_key,
                       help="Keep one row per training: its best checkpoint by the ranking score (ties: earliest).")  # fmt: skip
        cols[2].toggle("Include partial runs (--limit)", key=by_key["partial"].widget_key,
                       help="Runs made with lm-eval's --limit score a subset: shown as their own rows.")  # fmt: skip
    weights = _weights(definition, by_key)
    return LeaderboardView(
        benchmarks=tuple(state.value(by_key["bench"])) or tuple(names),
        by=state.value(by_key["by"]) or "average",
        raw=state.value(by_key["view"]) == "raw",
        weights=weights,
        categories=tuple(state.value(by_key["cat"]) or ()),
        precisions=tuple(state.value(by_key["prec"])),
        weight_types=tuple(state.value(by_key["wt"])),
        sizes=tuple(state.value(by_key["size"]) or ()),
        params_range=(low, high) if (low, high) != (0.0, MAX_PARAMS) else None,
        hide=tuple(state.value(by_key["hide"]) or ()),
        official_only=bool(state.value(by_key["official"])),
        best_checkpoint_only=bool(state.value(by_key["best"])),
        include_partial=bool(state.value(by_key["partial"])),
        search=str(state.value(by_key["q"]) or ""),
        order_by=str(state.value(by_key["order"]) or "rank"),
        descending=bool(state.value(by_key["desc"])) or (state.value(by_key["order"]) or "rank") == "rank",
    )


FILTERS_KEY = "leaderboard_filters_open"
WEIGHTS_KEY = "leaderboard_weights_open"
COLUMNS_KEY = "leaderboard_columns_open"


def _filters_summary(by_key: dict[str, Setting]) -> str:
    """What the closed Filters expander applies: its widgets are drawn only when it is opened."""
    parts = []
    for key, label in (("size", "sizes"), ("prec", "precision"), ("wt", "weight type")):
        if state.value(by_key[key]):
            parts.append(f"{label}: {', '.join(map(str, state.value(by_key[key])))}")
    low, high = sorted((float(state.value(by_key["pmin"])), float(state.value(by_key["pmax"]))))
    if (low, high) != (0.0, MAX_PARAMS):
        parts.append(f"#params {low:g}B to " + ("any" if high >= MAX_PARAMS else f"{high:g}B"))
    hidden = [HIDE_LABELS.get(h, h).lower() for h in state.value(by_key["hide"]) or ()]
    if hidden:
        parts.append("hiding " + ", ".join(hidden))
    for key, label in (("official", "official providers only"), ("best", "best checkpoint per training"),
                       ("partial", "partial runs included")):  # fmt: skip
        if state.value(by_key[key]):
            parts.append(label)
    return plain("Applied: " + "; ".join(parts) if parts else "No filter applied.")


# Steps of the #Params control, in billions: the usual model sizes, so that 0.5B and 7B are as easy to
# pick as 70B (a linear 0-1000 slider left every common size in its first few pixels).
PARAM_STEPS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 7.0, 8.0, 9.0, 13.0, 14.0, 22.0, 27.0, 32.0, 35.0,
               65.0, 70.0, 72.0, 110.0, 141.0, 200.0, 405.0, 700.0, MAX_PARAMS)  # fmt: skip


def _params_control(column, pmin: Setting, pmax: Setting) -> tuple[float, float]:
    """A range over the usual model sizes; a value from a link that is not a step is added as one."""
    low, high = sorted((float(state.value(pmin)), float(state.value(pmax))))
    steps = sorted({*PARAM_STEPS, low, high})
    key = f"params_range_{state.arrivals()}"
    column.select_slider(
        "#Params (B)", steps, value=(low, high), key=key,
        format_func=lambda v: "any" if v >= MAX_PARAMS else f"{v:g}B",
        help="Models of unknown size are kept while the lower end is 0.",
    )  # fmt: skip
    low, high = st.session_state[key]
    st.session_state[pmin.widget_key] = float(low)
    st.session_state[pmax.widget_key] = float(high)
    return float(low), float(high)


FILTER_KEYS = ("q", "cat", "prec", "wt", "size", "pmin", "pmax", "hide", "official", "best")


def empty_state(view: LeaderboardView, base: pd.DataFrame, url: list[Setting]) -> None:
    """Why a view has no rows, and a button that clears the filters (the benchmarks and scores stay)."""
    reasons: list[str] = []
    if view.search.strip():
        reasons.append(f"the search “{plain(view.search.strip())}”")  # typed or from a link: text
    for label, chosen in (("model types", view.categories), ("precisions", view.precisions),
                          ("weight types", view.weight_types), ("sizes", view.sizes)):  # fmt: skip
        if chosen:
            reasons.append(f"{label} {', '.join(plain(c) for c in chosen)}")
    if view.params_range is not None:
        low, high = view.params_range
        largest = pd.to_numeric(base["params"], errors="coerce").max() if len(base) else float("nan")
        known = f" (the largest model here has {largest:g}B)" if pd.notna(largest) else ""
        upper = "any size" if high >= MAX_PARAMS else f"{high:g}B"
        reasons.append(f"#Params from {low:g}B to {upper}{known}")
    if view.official_only:
        reasons.append("official providers only")
    if view.best_checkpoint_only:
        reasons.append("best checkpoint per training only")
    if set(view.hide) - {"flagged"}:
        reasons.append("hiding " + ", ".join(HIDE_LABELS.get(h, h).lower() for h in view.hide))
    why = "; ".join(reasons) if reasons else "the benchmark selection"
    st.warning(
        f"No model matches this view ({len(base):,} rows before filtering). Narrowed by: {why}. "
        "Widen it by changing these above, or clear them all.",
        icon="🔎",
    )
    by_key = {s.key: s for s in url}

    def clear() -> None:
        for key in FILTER_KEYS:
            st.session_state[by_key[key].widget_key] = by_key[key].default
        state.redraw_detached()  # the #Params range and the Columns popover

    st.button("Clear the filters", on_click=clear, key="clear_filters")


def _keep_selection_valid(by_key: dict[str, Setting], names: dict[str, str]) -> None:
    """Before the widgets are drawn: an empty benchmark selection shows every benchmark again (the
    table uses all of them), and ranking by a benchmark that was just removed falls back to the
    average. A #Params range given upside down is turned round. Each change is said in a notice."""
    bench, by = by_key["bench"], by_key["by"]
    if not state.value(bench):
        st.session_state[bench.widget_key] = list(names)
        st.info("No benchmark was selected: every benchmark is used again.", icon="ℹ️")
    chosen = state.value(bench)
    pmin, pmax = by_key["pmin"], by_key["pmax"]
    if float(state.value(pmin)) > float(state.value(pmax)):  # a link's range given the wrong way round
        low, high = float(state.value(pmax)), float(state.value(pmin))
        st.session_state[pmin.widget_key], st.session_state[pmax.widget_key] = low, high
        st.info(f"#Params from {low:g}B to {high:g}B: the link gave the range the other way round.", icon="ℹ️")
    order, ordered_on = by_key["order"], state.value(by_key["order"])
    if ordered_on in names and ordered_on not in chosen:
        st.session_state[order.widget_key] = "rank"
        st.session_state[by_key["desc"].widget_key] = True
        st.info(
            f"Ordered by rank again: {plain(names[ordered_on])} is no longer among the selected benchmarks.",
            icon="ℹ️",
        )
    ranked_on = state.value(by)
    if ranked_on not in ("average", *chosen):
        st.session_state[by.widget_key] = "average"
        st.info(
            f"Ranked by Average: {plain(names.get(ranked_on, ranked_on))} is no longer among the selected "
            "benchmarks.",
            icon="ℹ️",
        )


def column_picker(column_setting: Setting) -> None:
    """The Columns popover. Its multiselect is given its value on each draw (``default``) rather than
    through the session state: the browser only keeps the state of a popover's widgets once it was
    opened, so a seeded value read 'Choose options' after any other control was used. The choice is
    copied to the setting on change; the key is new on each arrival, so a restored view is drawn."""
    key = f"columns_picker_{state.arrivals()}"

    def copy() -> None:
        st.session_state[column_setting.widget_key] = list(st.session_state[key])

    picker = st.popover("Columns", key=COLUMNS_KEY, on_change="rerun")  # drawn only when open
    if not picker.open:
        return
    with picker:
        st.multiselect(
            "Columns shown",
            list(OPTIONAL_COLUMNS),
            default=list(state.value(column_setting)),
            key=key,
            on_change=copy,
        )


def _weights(definition: Definition, by_key: dict[str, Setting]) -> dict[str, float] | None:
    """The weights' expander, drawn only when opened (``on_change="rerun"``); its number inputs only while
    "Use custom weights" is on. A browser builds a closed expander's widgets on every page load (one
    input per benchmark). What is not drawn keeps its value (``state.keep_undrawn``): weights in use stay
    in use, and in the URL, with the expander closed."""
    weight_settings = [by_key[f"w_{b.id}"] for b in definition.benchmarks]
    box = st.expander("Custom weights for the average", key=WEIGHTS_KEY, on_change="rerun")
    with box:
        if not box.open:
            state.keep_undrawn([by_key["weighted"], *weight_settings])
            on = bool(state.value(by_key["weighted"]))
            st.caption("Custom weights are on." if on else "The average weighs every benchmark alike.")
        else:
            st.toggle("Use custom weights", key=by_key["weighted"].widget_key)
            if not state.value(by_key["weighted"]):
                state.keep_undrawn(weight_settings)
                st.caption("Turn this on to give each benchmark its own weight in the average.")
            else:
                cols = st.columns(len(definition.benchmarks))
                for col, bench, setting in zip(cols, definition.benchmarks, weight_settings, strict=True):
                    col.number_input(bench.name, min_value=0.0, max_value=MAX_WEIGHT, step=0.5,
                                     key=setting.widget_key)  # fmt: skip
    if not state.value(by_key["weighted"]):
        return None
    return {b.id: float(state.value(by_key[f"w_{b.id}"])) for b in definition.benchmarks}


def cached_frame(
    index: Index, generation: int, definition_path: str, benchmarks: tuple[str, ...],
    weights: tuple[tuple[str, float], ...] | None, partial: bool,
) -> pd.DataFrame:  # fmt: skip
    """The unfiltered leaderboard frame, recomputed only when the data or the selection changed.

    Remembered on the index (shared by every session, dropped when the data changes) rather than
    with st.cache_data, which would copy the frame on every rerun. Callers must not modify it.
    """
    view = LeaderboardView(
        benchmarks=benchmarks, weights=dict(weights) if weights else None, include_partial=partial
    )
    key = ("unfiltered_frame", definition_path, benchmarks, weights, partial)
    return index.memo(key, lambda: unfiltered_frame(index, index.definition, view))


# Rows sent to the browser at first; "Show more" adds as many again. The grid draws only what is sent,
# and sending every row of a 100,000-row view costs megabytes of Arrow and seconds of drawing.
PAGE_ROWS = max(1, int(os.environ.get("LEADERBOARD_TABLE_ROWS", "1000")))
SHOWN_KEY = "leaderboard_rows_shown"


def rows_to_send(total: int) -> int:
    """How many of ``total`` rows the grid gets: PAGE_ROWS, plus PAGE_ROWS per "Show more"."""
    return min(total, max(PAGE_ROWS, int(st.session_state.get(SHOWN_KEY, PAGE_ROWS))))


def under_grid(table: LeaderboardTable, sent: int, order: Setting, descending: Setting) -> None:
    """Under the grid: what orders the whole view and, when the grid does not hold every row, what it
    shows and a button for more rows. A column header sorts only the rows the grid was sent (and not the
    downloads); "Order all rows by" sorts every row of the view on the server."""
    total = table.rows
    options = order_options(table.benchmarks)
    if sent < total:
        st.caption(
            f"Showing the first {sent:,} of {total:,} rows. A column header sorts only these; "
            f"**Order all rows by** sorts all {total:,}. Search, filters and the downloads cover every row."
        )

    def direction() -> None:  # a new choice starts best, largest or newest first; text A to Z
        st.session_state[descending.widget_key] = descending_first(
            st.session_state[order.widget_key], table.benchmarks
        )

    pick, way, more_column = st.columns([2, 1.2, 1.8], vertical_alignment="bottom")
    pick.selectbox(
        "Order all rows by",
        list(options),
        format_func=lambda key: "Rank (the ranking)" if key == "rank" else str(options.get(key, key)),
        key=order.widget_key,
        on_change=direction,
        help="Orders every row of the view, not only those shown; the Rank column keeps the ranking.",
    )
    way.toggle("Descending", key=descending.widget_key, disabled=state.value(order) == "rank")
    if sent < total:
        more = min(PAGE_ROWS, total - sent)

        def add() -> None:
            st.session_state[SHOWN_KEY] = sent + PAGE_ROWS

        more_column.button(f"Show {more:,} more", on_click=add, key="show_more_rows")


def view_key(index: Index, view: LeaderboardView) -> tuple:
    """What a ranked view depends on: this index's data (its identity and generation), the definition
    and every control. The key of ``ranked_view`` and of the grid's rows (``lib.ui.memo``)."""
    return ("leaderboard", id(index), index.generation, str(index.definition.path), view)


def ranked_view(
    index: Index, definition: Definition, view: LeaderboardView, base: pd.DataFrame
) -> LeaderboardTable:
    """The filtered, ranked table of ``view``, shared by every session that asks for the same view of the
    same data (a new visitor's default view, a control set back). Callers must not modify it."""
    return memo.remember(view_key(index, view), lambda: build_table(index, definition, view, base=base))


def _shaped_head(table: LeaderboardTable, raw: bool, sent: int) -> tuple[pd.DataFrame, bool, pa.Table | None]:
    """The first ``sent`` rows shaped for the grid (every column, links and interval text made), whether
    any row of the view is flagged, and those rows as Arrow (None when Arrow refuses a column: the grid
    then gets the frame, which Streamlit mends). Converted once per view: a rerun that shows the same
    view (a search set back, a row selected) sends the Arrow columns it picks without converting again."""
    head_frame = table.head(sent)
    head = display_frame(table, raw, rows=sent)
    cells = {"Details": model_links(head_frame), "Model": model_cell_links(head_frame),
             "± 95%": interval_text(head["± 95%"])}  # fmt: skip
    flagged = bool((table.column("flagged").fillna("").astype(str) != "").any())
    head = head.assign(**cells)
    try:
        arrow: pa.Table | None = pa.Table.from_pandas(head, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError):
        arrow = None
    return head, flagged, arrow


def table(
    table: LeaderboardTable,
    raw: bool,
    url: list[Setting],
    key: tuple | None = None,
) -> Callable[[], pd.DataFrame]:
    """Draw the table with the chosen columns; returns a function giving the display frame of every
    row of the view (for the downloads, built only when one is asked for).

    The grid gets the first ``rows_to_send`` rows only (the view's top by its ranking, or its order), and only those
    rows are shaped for display on a rerun; with ``key`` (``view_key``) the shaped rows are shared by
    every session showing the same view. ``url``: the page's settings (the columns shown, the order)."""
    by_key = {s.key: s for s in url}
    total = table.rows
    sent = rows_to_send(total)
    if key is None:
        head, flagged, head_arrow = _shaped_head(table, raw, sent)
    else:
        head, flagged, head_arrow = memo.remember(
            (*key, "head", sent), lambda: _shaped_head(table, raw, sent)
        )
    bench_names = [b.name for b in table.benchmarks]
    chosen = list(state.value(by_key["cols"]) or DEFAULT_COLUMNS)
    if flagged and "Flagged" not in chosen:
        chosen.append("Flagged")  # flagged rows are on view: say why they were flagged
    order = [c for c in head.columns if c in chosen or c in bench_names or c in ALWAYS_SHOWN]
    ranked = table.rank_by
    interval_header = f"± 95% ({table.rank_label}{', raw' if raw else ''})"
    config = {
        "Rank": st.column_config.NumberColumn("Rank", help="Plain rank by the ranking score", width="small",
                                              pinned=True),
        "Stat. rank": st.column_config.NumberColumn(
            "Stat. rank", width="small",
            help="1 + the number of models whose 95% interval lies wholly above this one: "
            "models that cannot be told apart share a rank.",
        ),
        "T": st.column_config.TextColumn("T", width="small", help="Model type"),
        "Model": st.column_config.LinkColumn(
            "Model", pinned=True, display_text=MODEL_LINK_TEXT,
            help="Opens the model's Hub page (a local model: its page here)",
        ),
        "Hub": st.column_config.LinkColumn("Hub", display_text="🤗", width="small"),
        "Average": st.column_config.ProgressColumn(
            "Average" + (" ⬆️" if ranked == "average" else ""), min_value=0, max_value=100, format="%.2f",
            help="Mean of the selected benchmarks (weighted when custom weights are on)",
        ),
        "± 95%": st.column_config.TextColumn(
            interval_header,
            help=f"Half the 95% interval of the {table.rank_label} score ({'raw' if raw else 'normalized'}), "
            "the score the table is ranked on; from lm-eval's standard errors. Blank: no standard error.",
        ),
        "#Params (B)": st.column_config.NumberColumn(format="%.4g", help="Blank: unknown"),
        "Flagged": st.column_config.TextColumn("Flagged", help="Why the model was flagged"),
        "Step": st.column_config.NumberColumn(format="%d"),
    }  # fmt: skip
    for bench in table.benchmarks:
        arrow = (" ⬆️" if bench.higher_is_better else " ⬇️") if bench.id == ranked else ""
        config[bench.name] = st.column_config.NumberColumn(
            bench.name + arrow, format="%.2f", help=_bench_help(bench, raw)
        )
    config["Details"] = st.column_config.LinkColumn(
        "Details", display_text="🔎", width="small", help="Open the model page: provenance, subtasks, samples"
    )
    order.insert(order.index("Model") + 1 if "Model" in order else 0, "Details")
    # the ranked score and its interval right after the model: on a narrow screen the pinned rank and
    # model are followed by the number the table is ranked on
    score = "Average" if ranked == "average" else next(b.name for b in table.benchmarks if b.id == ranked)
    lead = [c for c in ("Rank", "Model", score, "± 95%") if c in order]
    order = lead + [c for c in order if c not in lead]
    for name, width in zip(("Rank", "Model", score), NARROW_WIDTHS, strict=True):
        if name != "Model" or on_a_phone():
            config[name]["width"] = width  # a phone shows all three (see NARROW_WIDTHS)
    event = show_table(
        head[order] if head_arrow is None else head_arrow.select(order),
        column_config=config,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(head), 740),
        key=grid_key(table),
        on_select="rerun",
        selection_mode="multi-row",
    )
    under_grid(table, sent, by_key["order"], by_key["desc"])
    _selection_actions(table, list(event.selection.rows) if event is not None else [])
    return lambda: display_frame(table, raw)


# Widths in pixels of the rank, the model and the ranked score: with the row-selection column (36 px) they
# fit the 368 px a 400 px wide screen gives the grid, so a phone shows what the table is ranked on
# without scrolling. The grid has no media queries, so the Model column is narrowed only for a browser
# that says it is a phone (below); elsewhere it keeps its automatic width and long names read whole.
NARROW_WIDTHS = (56, 180, 90)


def on_a_phone() -> bool:
    """Whether the browser says it is a phone: "Mobi" in its User-Agent (the rule MDN recommends).

    The server never learns the window's width; a phone's browser says what it is in every request.
    A desktop window made narrow keeps the wide layout (and scrolls the grid sideways).
    """
    try:
        agent = st.context.headers.get("User-Agent") or ""
    except Exception:  # no browser behind this run (AppTest, a bare script run)
        return False
    return "Mobi" in agent


def interval_text(half: pd.Series) -> pd.Series:
    """'± 1.26', or blank where there is no interval (the grid would print a missing number as 'None')."""
    values = pd.to_numeric(half, errors="coerce")
    return values.map(lambda v: f"± {v:.2f}" if pd.notna(v) and np.isfinite(v) else "")


HUB_URL = "https://huggingface.co"
# The grid shows the model id out of its link: the Hub URL's path, or the model page's ?model= value.
MODEL_LINK_TEXT = r"^(?:https://huggingface\.co/|model\?model=)([^&]*)"


def model_from_link(cell: str) -> str:
    """The model id a Model cell shows (the inverse of ``model_cell_links``, as the grid displays it)."""
    from urllib.parse import unquote

    found = re.match(MODEL_LINK_TEXT, str(cell))
    return unquote(found.group(1)) if found else str(cell)


def model_cell_links(frame: pd.DataFrame) -> list[str]:
    """The Model cell's link: the Hub page of a Hub model, the model page here of a local one."""
    models = frame["model"].astype(str)
    local = models.str.startswith("local/")
    links = (HUB_URL + "/" + models).tolist()
    if local.any():
        pages = model_links(frame[local], quote_slash=False)
        for position, page in zip(np.flatnonzero(local.to_numpy()), pages, strict=True):
            links[position] = page
    return links


def model_links(frame: pd.DataFrame, quote_slash: bool = True) -> list[str]:
    """A relative link to each row's model page (model, revision or sha, precision)."""
    cells = frame[["model", "sha", "revision", "precision"]].fillna("").astype(str)
    safe = "" if quote_slash else "/"
    quoted: dict[str, str] = {}  # what urlencode writes, each distinct value quoted once

    def q(value: str) -> str:
        if value not in quoted:
            quoted[value] = quote_plus(value, safe=safe)
        return quoted[value]

    return [
        f"model?model={q(model)}&revision={q(sha or revision)}&precision={q(precision)}"
        for model, sha, revision, precision in zip(
            cells["model"], cells["sha"], cells["revision"], cells["precision"], strict=True
        )
    ]


def grid_key(table: LeaderboardTable) -> str:
    """The grid's widget key: a new one for each order of the whole view, so that a row selection (kept
    by position in the browser) and a header sort are cleared rather than moved onto other models."""
    if not table.order_label:
        return "leaderboard_table"
    return f"leaderboard_table_{zlib.crc32(table.order_label.encode()):08x}"


def selected_model(table: LeaderboardTable) -> str | None:
    """The model of the first row selected in the table (None when no row is selected)."""
    state_ = st.session_state.get(grid_key(table))
    try:
        rows = [p for p in state_["selection"]["rows"] if 0 <= p < table.rows] if state_ else []
    except (KeyError, TypeError):
        return None
    return str(table.take(rows[:1])["model"].iloc[0]) if rows else None


def _selection_actions(table: LeaderboardTable, positions: list[int]) -> None:
    """'Open model page' for one selected row, 'Compare selected' for two to four."""
    picked = table.take([p for p in positions if 0 <= p < table.rows])
    left, right, note = st.columns([1.3, 1.5, 4])
    if left.button("🔎 Open model page", disabled=len(picked) != 1, key="open_model"):
        row = picked.iloc[0]
        st.switch_page(
            pages.page("model"),
            query_params={
                "model": row["model"],
                "revision": row["sha"] or row["revision"],
                "precision": row["precision"],
            },
        )
    if right.button(
        f"⚖️ Compare selected ({len(picked)})", disabled=not 2 <= len(picked) <= 4, key="compare_rows"
    ):
        st.switch_page(pages.page("compare"), query_params={"m": ",".join(picked["row_key"].astype(str))})
    note.caption("Select rows (left edge of the table) to open a model page, or 2 to 4 to compare them.")


def _bench_help(bench, raw: bool) -> str:
    baselines = sorted({round(c.baseline, 4) for c in bench.components})
    shots = "" if bench.num_fewshot is None else f" · {bench.num_fewshot}-shot"
    base = ", ".join(f"{b:g}" for b in baselines)
    kind = "raw score (%)" if raw else "normalized score (0 = random guessing)"
    return f"{bench.description} {kind}; baseline {base}{shots}; {metric_rule(bench)}".strip()


def metric_rule(bench) -> str:
    """Which lm-eval metric key the column reads, and the rule when no filter is named (docs/formats.md)."""
    comp = bench.components[0]
    if comp.filter:
        return f"metric {comp.metric},{comp.filter}"
    return f"metric {comp.metric} (filter 'none' when the file has it, else the first filter by name)"


def downloads(every_row: Callable[[], pd.DataFrame]) -> None:
    """CSV and Parquet of the current view (every row, not only those the grid got), built only when a
    button is clicked."""
    left, right, _ = st.columns([1, 1, 4])

    def frame() -> pd.DataFrame:
        return null_non_finite(every_row())  # CSV and Parquet carry nulls, never 'inf'

    def as_parquet() -> bytes:
        buffer = io.BytesIO()
        frame().to_parquet(buffer, index=False)
        return buffer.getvalue()

    left.download_button(
        "⬇ CSV",
        lambda: frame().to_csv(index=False).encode("utf-8"),
        "leaderboard.csv",
        "text/csv",
        key="dl_csv",
    )
    right.download_button(
        "⬇ Parquet", as_parquet, "leaderboard.parquet", "application/octet-stream", key="dl_parquet"
    )
