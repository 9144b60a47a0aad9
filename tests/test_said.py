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


# --- Every reason the code can say is in the Chinese catalogue, and reads as Chinese ----------
import ast  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APPS = ("patients", "visits", "therapy", "safety", "reports", "accounts", "outbox", "thalimon")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _messages():
    """(file, msgid, plural or None) of every ``say``/``say_n`` call with literal messages."""
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("say", "say_n"):
                    args = [a.value for a in node.args[:2] if isinstance(a, ast.Constant)]
                    if args:
                        plural = args[1] if node.func.id == "say_n" and len(args) > 1 else None
                        found.append((str(path.relative_to(ROOT)), args[0], plural))
    return found


MESSAGES = _messages()


def test_the_rules_say_hundreds_of_messages():
    assert len(MESSAGES) > 300  # the scan finds them (a broken scan would pass everything below)


@pytest.mark.parametrize(("where", "msgid", "plural"), MESSAGES, ids=[f"{w}:{m[:40]}" for w, m, _ in MESSAGES])
def test_every_message_reads_as_chinese(where, msgid, plural):
    from django.utils import translation

    from tests.test_i18n import english_sentences
    from thalimon.saying import render

    params = {name: "7" for name in PLACEHOLDER.findall(msgid)}
    reason = say_n(msgid, plural, 2, **{k: v for k, v in params.items() if k != "count"}) if plural \
        else say(msgid, **params)
    with translation.override("zh-hans"):
        text = render(reason)
    if english_sentences(f"<p>{PLACEHOLDER.sub(' ', msgid)}</p>"):  # words to translate, not only terms
        assert re.search(r"[\u3400-\u9fff]", text), f"{where}: not translated: {msgid!r} → {text!r}"
    assert english_sentences(f"<p>{text}</p>") == [], f"{where}: English left in {text!r}"


def test_a_stored_reason_is_rendered_with_days_in_the_readers_format():
    from django.utils import translation

    from safety import schedule
    from thalimon.saying import render

    reason = loads(dumps(join([say("Pregnancy test due %(due)s: thalidomide stopped %(stop)s (first day without the "
                                   "drug); one more test is due %(days)s after the stop, on %(due)s (R5.2) (R7).",
                                   due=date(2026, 12, 7), stop=date(2026, 11, 9),
                                   days=schedule.plural(28, "day"))], " ")))
    with translation.override("en-gb"):
        assert render(reason) == str(reason) and "2026-12-07" in render(reason)
    with translation.override("zh-hans"):
        chinese = render(reason)
    assert "2026年12月7日" in chinese and "2026年11月9日" in chinese and "2026-12-07" not in chinese


# --- Stored reasons decoded once, rendered once per language (the inbox's rows on every load) ---

def test_a_stored_reason_is_decoded_once_and_the_same_object_stands_for_every_row():
    reason = say("No step on %(day)s.", day=date(2026, 12, 7))
    stored = dumps(reason)
    first, again = loads(stored), loads(stored)
    assert first is again and first == "No step on 2026-12-07." and to_data(first) == to_data(reason)
    other = loads(dumps(say("No step on %(day)s.", day=date(2026, 12, 8))))
    assert other is not first and other == "No step on 2026-12-08."
    # Copies are the object itself: nothing can change the shared one through a copy.
    import copy
    assert copy.copy(first) is first and copy.deepcopy(first) is first


def test_a_reason_is_rendered_in_each_readers_language_however_often_it_is_asked():
    from django.utils import translation

    from thalimon.saying import render

    reason = loads(dumps(say("Pregnancy test due %(due)s: thalidomide stopped %(stop)s (first day without the "
                             "drug); one more test is due %(days)s after the stop, on %(due)s (R5.2) (R7).",
                             due=date(2026, 12, 9), stop=date(2026, 11, 11), days="28 days")))
    answers = []
    for language in ("en-gb", "zh-hans", "en-gb", "zh-hans"):
        with translation.override(language):
            answers.append(render(reason))
    assert answers[0] == answers[2] == str(reason)
    assert answers[1] == answers[3] and "2026年12月9日" in answers[1] and "2026-12-09" not in answers[1]


def test_a_lazy_label_is_said_in_each_language_and_anything_else_passes_through():
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from thalimon.saying import lazy_text

    label = gettext_lazy("Record the test")
    with translation.override("en-gb"):
        english = lazy_text(label)
    with translation.override("zh-hans"):
        chinese = lazy_text(label)
        assert lazy_text(label) == chinese
    assert english == "Record the test" and chinese != english and type(chinese) is str
    assert lazy_text("plain") == "plain" and lazy_text(None) is None
    # Another lazy text of the same words is its own entry, never another object's answer.
    with translation.override("zh-hans"):
        assert lazy_text(gettext_lazy("Record the visit")) != chinese


def test_only_stored_reasons_are_remembered_so_a_pages_computed_reasons_never_push_them_out():
    from django.utils import translation

    from thalimon import saying

    stored = loads(dumps(say("No step on %(day)s.", day=date(2026, 12, 10))))
    computed = say("No step on %(day)s.", day=date(2026, 12, 11))
    clause = as_clause(stored)
    assert stored.stored and not computed.stored and not clause.stored
    with translation.override("en-gb"):
        assert saying.render(stored) == "No step on 2026-12-10."
        assert saying.render(computed) == "No step on 2026-12-11."
        assert saying.render(clause) == "no step on 2026-12-10"
    remembered = {entry[0] for entry in saying._RENDERED.values()}
    assert any(obj is stored for obj in remembered)
    assert not any(obj is computed or obj is clause for obj in remembered)
    assert to_data(stored) == to_data(say("No step on %(day)s.", day=date(2026, 12, 10)))  # not stored in the data
