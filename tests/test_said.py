"""Reasons said in any language (thalimon/said.py, pure; thalimon/saying.py renders them)."""

import pickle
from datetime import date

import pytest

from thalimon.said import Said, as_clause, dumps, from_data, join, loads, say, say_n, to_data

CASES = [
    # (reason, English text)
    (say("No step on %(day)s.", day=date(2026, 12, 7)), "No step on 2026-12-07."),
    (say_n("%(count)s day", "%(count)s days", 1), "1 day"),
    (say_n("%(count)s day", "%(count)s days", 3), "3 days"),
    (join([say("A (R3.1)."), "b"], "; "), "A (R3.1).; b"),
    (as_clause(say("Grade 2 at the visit of %(day)s (R3.4).", day=date(2026, 1, 2)), "R3.4"),
     "grade 2 at the visit of 2026-01-02"),
    (as_clause("Plain words."), "plain words"),
    (say("Outer: %(inner)s.", inner=as_clause(say("Inner (R5.2)."), "R5.2")), "Outer: inner."),
    (as_clause(say("Other rule (R3.4)."), "R5.2"), "other rule (R3.4)"),
]


@pytest.mark.parametrize(("reason", "english"), CASES)
def test_a_reason_reads_as_its_english_sentence(reason, english):
    assert isinstance(reason, Said)
    assert reason == english


@pytest.mark.parametrize(("reason", "english"), CASES)
def test_a_reason_survives_storage_and_pickling(reason, english):
    for again in (loads(dumps(reason)), from_data(to_data(reason)), pickle.loads(pickle.dumps(reason))):
        assert again == english
        assert to_data(again) == to_data(reason)


def test_plain_text_is_stored_as_it_is():
    assert dumps("A clinician's words") == "A clinician's words"
    assert loads("A clinician's words") == "A clinician's words"
    assert loads('{"said": broken') == '{"said": broken'


def test_an_unknown_separator_is_refused():
    with pytest.raises(ValueError, match="separator"):
        join(["a", "b"], " / ")
