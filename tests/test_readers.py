"""The store is read directly by pandas, Polars, DuckDB and pyarrow over `**/*.parquet`."""

from __future__ import annotations

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pytest

from history_store import RECORD_SCHEMA
from tests.conftest import record


@pytest.fixture
def filled_store(store, new_session):
    g1 = new_session(lineage="A")
    store.append_records(g1.session_code, [record("a1", advice="line 1\nline 2 \"quoted\""), record("a2", "column")])
    g2 = new_session(lineage="A", ancestor=g1)
    store.append_records(g2.session_code, [record("b1", ancestor_session_code=g1.session_code,
                                                  ancestor_participant_code="a1", ancestor_advice="line 1\nline 2 \"quoted\"")])
    other = new_session(lineage="B")
    store.append_records(other.session_code, [record("c1", payoff=2.5)])
    for m in (g1, g2, other):
        store.load_session(m.session_code)  # readers outside the store read snapshots
    return store


def test_duckdb_reads_the_whole_store(filled_store):
    glob = f"{filled_store.root}/**/*.parquet"
    table = duckdb.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = false) ORDER BY participant_code").arrow()
    if hasattr(table, "read_all"):  # newer DuckDB returns a reader
        table = table.read_all()
    assert table.column_names == RECORD_SCHEMA.names
    assert table.column("participant_code").to_pylist() == ["a1", "a2", "b1", "c1"]
    assert table.column("generation").to_pylist() == [1, 1, 2, 1]
    assert table.column("advice").to_pylist()[0] == "line 1\nline 2 \"quoted\""


def test_pyarrow_dataset_over_the_parquet_files(filled_store):
    files = sorted(str(p) for p in filled_store.root.glob("**/*.parquet"))
    table = ds.dataset(files, format="parquet").to_table()
    assert table.num_rows == 4
    assert set(table.column("lineage").to_pylist()) == {"A", "B"}


def test_pandas_and_polars_read_the_parquet_files(filled_store):
    files = sorted(str(p) for p in filled_store.root.glob("**/*.parquet"))
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    assert sorted(frame["participant_code"]) == ["a1", "a2", "b1", "c1"]
    lazy = pl.scan_parquet(f"{filled_store.root}/**/*.parquet", hive_partitioning=False)
    assert lazy.select(pl.len()).collect().item() == 4
    assert lazy.filter(pl.col("lineage") == "B").collect()["payoff"].to_list() == [2.5]
