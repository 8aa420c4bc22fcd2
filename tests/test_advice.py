from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from history_store import MAX_ADVICE_LENGTH, advice_problem, normalize_advice
from history_store._advice import TRIMMED_CHARACTERS
from tests.conftest import record


def test_trimmed_characters_are_exactly_javascripts_trim_set():
    # ECMAScript trim(): WhiteSpace (TAB, VT, FF, ZWNBSP, every Zs) and LineTerminator (LF, CR, LS, PS).
    space_separators = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Zs"}
    expected = {"\t", "\v", "\f", "\ufeff", "\n", "\r", "\u2028", "\u2029"} | space_separators
    assert set(TRIMMED_CHARACTERS) == expected


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("a\r\nb\rc\nd", "a\nb\nc\nd"),
        ("  \r\n hello \t\n", "hello"),
        ("\u00a0\u3000x\ufeff", "x"),
        ("\x1fkeep\x85", "\x1fkeep\x85"),  # Python's strip() would remove these; JavaScript keeps them
    ],
)
def test_normalize_advice(raw, stored):
    assert normalize_advice(raw) == stored


def test_length_is_counted_in_code_points_after_normalising():
    assert advice_problem("🙂" * MAX_ADVICE_LENGTH) is None  # 2,000 UTF-16 units, 1,000 code points
    assert advice_problem("🙂" * (MAX_ADVICE_LENGTH + 1)) is not None
    assert advice_problem("  " + "x" * MAX_ADVICE_LENGTH + "\r\n") is None
    assert advice_problem("a\r\n" * 500) is None  # 999 code points once CRLF is LF and trimmed


@pytest.mark.parametrize("text", ["", "   ", "\r\n\t", "a\x00b", "lone \ud800 surrogate", "x" * 1001])
def test_unacceptable_advice_has_a_problem_in_plain_words(text):
    problem = advice_problem(text)
    assert problem and "Traceback" not in problem


advice_texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=1200
).filter(lambda t: advice_problem(t) is None)


@settings(max_examples=150, deadline=None)
@given(raw=advice_texts)
def test_accepted_advice_round_trips_exactly_through_journal_and_parquet(tmp_path_factory, raw):
    from history_store import HistoryStore, SessionManifest

    store = HistoryStore(tmp_path_factory.mktemp("h"))
    store.register_session(SessionManifest("s1", "L", 1, None, 1, 0))
    advice = normalize_advice(raw)
    store.append_records("s1", [record("p1", advice=advice)])
    assert store.read_records("s1")[0]["advice"] == advice
    assert store.load_session("s1").column("advice").to_pylist() == [advice]
