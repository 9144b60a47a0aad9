"""Template filters that put every rule code a person sees into words: ``{% load words %}``.

The catalogues live with their app (therapy/words.py, visits/words.py,
safety/kinds.py); see docs/architecture.md, "Words". Each ``*_label`` filter gives
a short label, each ``*_sentence`` filter one sentence saying what the code means.
An unknown code reads as its words (underscores as spaces), never as an error.
"""

from django import template
from django.utils.html import format_html

from safety import kinds
from thalimon import catalogue
from therapy import words as therapy_words
from visits import words as visit_words

register = template.Library()

# filter prefix -> catalogue
CATALOGUES = {
    "deviation": therapy_words.FINDINGS,  # R3.5 deviations and the warnings beside them
    "warning": therapy_words.FINDINGS,
    "change_kind": therapy_words.CHANGE_KINDS,
    "checklist": therapy_words.CHECKLIST_ITEMS,
    "prescription": therapy_words.PRESCRIPTION_DEVIATIONS,  # R9.3 prescription codes
    "risk_category": therapy_words.RISK_CATEGORIES,  # R9.2
    "status": visit_words.STATUSES,
    "band": visit_words.BANDS,
    "failure": visit_words.FAILURE_STATUSES,
    "reminder": kinds.REMINDERS,
    "urgent": kinds.URGENT,
}


def _register(prefix, words):
    register.filter(f"{prefix}_label", lambda code: catalogue.label(words, code))
    register.filter(f"{prefix}_sentence", lambda code: catalogue.sentence(words, code))


for _prefix, _words in CATALOGUES.items():
    _register(_prefix, _words)
# The brief's name for a status's sentence (a visit's own reason with its numbers is
# ``visit.status_reason``).
register.filter("status_reason", lambda code: catalogue.sentence(visit_words.STATUSES, code))


@register.filter
def deviation_labels(codes):
    """Codes as their labels, each once, in order, joined by commas (report cells, PDF rows)."""
    return ", ".join(str(catalogue.label(therapy_words.FINDINGS, code)) for code in dict.fromkeys(codes or ()))


@register.filter
def label_and_sentence(code, prefix):
    """``{{ code|label_and_sentence:"deviation" }}`` → "<strong>Label</strong> — sentence"."""
    words = CATALOGUES[prefix]
    text = catalogue.sentence(words, code)
    if not text:
        return format_html("<strong>{}</strong>", catalogue.label(words, code))
    return format_html("<strong>{}</strong> — {}", catalogue.label(words, code), text)
