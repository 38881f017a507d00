"""Columns of a table source as clean typed Arrow arrays: text, finite numbers, flags, whole numbers, dates.

A table file's column may hold anything its reader inferred (text in a numeric column, booleans, NaN,
dates, nested values). These functions turn one column, whole, into the one type a field needs, with the
rules the per-row reader had (``lib.core.records.as_float`` and friends): text is stripped, ``None``
and NaN are empty text; a number is finite or NULL, never from a boolean; a flag is true for true, 1,
yes, y; a date is UNIX seconds from a number, a timestamp or ISO 8601 text. Work is per column
(pyarrow.compute, or one DuckDB query for the text-to-number and text-to-date casts), never per row.
This module converts; it never reads files or decides layouts (lib.index.table_sources does).
"""

from __future__ import annotations

from typing import TypeAlias

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.index.sql_files import sql

Column: TypeAlias = pa.Array | pa.ChunkedArray
_TRUE = pa.array(["true", "1", "yes", "y"])


def _plain(column: Column) -> pa.Array:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return array


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _one(con: duckdb.DuckDBPyConnection, query: str, array: pa.Array) -> pa.Array:
    """``array`` through one of the one-column queries of lib/index/sql (registered as ``one_column``)."""
    con.register("one_column", pa.table({"v": array}))
    try:
        return con.sql(sql(query)).to_arrow_table().column("v").combine_chunks()
    finally:
        con.unregister("one_column")


def texts(con: duckdb.DuckDBPyConnection, column: Column | None, n: int) -> pa.Array:
    """Stripped text; '' for a missing column, NULL and NaN."""
    if column is None:
        return pa.repeat(pa.scalar("", pa.string()), n)
    array = _plain(column)
    kind = array.type
    if pa.types.is_null(kind):
        return pa.repeat(pa.scalar("", pa.string()), n)
    if _is_text(kind):
        text = array
    elif pa.types.is_boolean(kind):
        text = pc.if_else(array, "True", "False")
    elif pa.types.is_floating(kind):
        text = pc.if_else(pc.is_nan(array), pa.scalar(None, pa.string()), array.cast(pa.string()))
    elif _is_number(kind):
        text = array.cast(pa.string())
    else:
        text = _one(con, "table_text", array)  # dates, lists, structs, binary: DuckDB renders them
    return pc.fill_null(pc.utf8_trim_whitespace(text), "")


def numbers(con: duckdb.DuckDBPyConnection, column: Column | None, n: int) -> pa.Array:
    """Finite floats; NULL for booleans, text that is no number, NaN, infinities and other types."""
    if column is None:
        return pa.nulls(n, pa.float64())
    array = _plain(column)
    kind = array.type
    if _is_number(kind):
        values = array.cast(pa.float64(), safe=False)
        return pc.if_else(pc.is_finite(values), values, pa.scalar(None, pa.float64()))
    if _is_text(kind):
        return _one(con, "table_number", pc.utf8_trim_whitespace(array))
    return pa.nulls(n, pa.float64())


def whole(con: duckdb.DuckDBPyConnection, column: Column | None, n: int) -> pa.Array:
    """Whole numbers below 2**62 in magnitude as int64; NULL otherwise (fractions, text, booleans)."""
    values = numbers(con, column, n)
    fits = pc.and_(pc.equal(pc.trunc(values), values), pc.less(pc.abs(values), 2.0**62))
    return pc.if_else(fits, values, pa.scalar(None, pa.float64())).cast(pa.int64())


def flags(con: duckdb.DuckDBPyConnection, column: Column | None, n: int) -> pa.Array:
    """True for true, 1, yes, y (any case); False for anything else, NULL and a missing column."""
    if column is None:
        return pa.repeat(pa.scalar(False), n)
    array = _plain(column)
    if pa.types.is_boolean(array.type):
        return pc.fill_null(array, False)
    if pa.types.is_floating(array.type):  # 1.0 reads as the text "1.0": not a flag
        return pa.repeat(pa.scalar(False), n)
    return pc.is_in(pc.utf8_lower(texts(con, array, n)), value_set=_TRUE)


def present(column: Column | None, n: int) -> pa.Array:
    """Whether each row has a value (not NULL) in the column; all False for a missing column."""
    if column is None:
        return pa.repeat(pa.scalar(False), n)
    return pc.is_valid(_plain(column))


def dates(con: duckdb.DuckDBPyConnection, column: Column | None, n: int) -> pa.Array:
    """UNIX seconds: a number as is, a timestamp (UTC when naive) or ISO 8601 text; NULL otherwise."""
    if column is None:
        return pa.nulls(n, pa.float64())
    array = _plain(column)
    kind = array.type
    if pa.types.is_timestamp(kind):
        per_second = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[kind.unit]
        return pc.divide(array.cast(pa.timestamp(kind.unit)).cast(pa.int64()).cast(pa.float64()), per_second)
    if pa.types.is_date(kind):
        return pc.multiply(array.cast(pa.date32()).cast(pa.int32()).cast(pa.float64()), 86400.0)
    number = numbers(con, array, n)
    if not _is_text(kind):
        return number
    stamp = _one(con, "table_timestamp", texts(con, array, n))
    return pc.coalesce(number, stamp.cast(pa.float64()))


def first_present(con: duckdb.DuckDBPyConnection, columns: list[Column], n: int) -> pa.Array:
    """The text of the first of ``columns`` with a value in each row ('' when none has one)."""
    result = texts(con, None, n)
    chosen = pa.repeat(pa.scalar(False), n)
    for column in columns:
        result = pc.if_else(chosen, result, texts(con, column, n))
        chosen = pc.or_(chosen, present(column, n))
    return result
