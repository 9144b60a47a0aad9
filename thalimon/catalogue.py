"""Reading a words catalogue: ``{code: (label, sentence)}`` dicts kept in each app's
``words`` module (therapy/words.py, visits/words.py, safety/kinds.py; see
docs/architecture.md, "Words"). Plumbing: imports no app."""

from django.utils.translation import get_language


def label(catalogue, code):
    """The label of ``code`` in ``catalogue`` in the active language (plain text, remembered per
    language: list pages ask for the same few labels on every row); an unknown code reads as its
    words, never as an error."""
    entry = catalogue.get("" if code is None else code)
    if not entry:
        return str(code or "").replace("_", " ")
    key = (id(catalogue), code, get_language())
    text = _LABELS.get(key)
    if text is None:
        text = _LABELS[key] = str(entry[0])
    return text


_LABELS = {}  # (catalogue, code, language) -> label; the catalogues are module constants


def sentence(catalogue, code):
    """The sentence saying what ``code`` means; empty for an unknown code."""
    entry = catalogue.get("" if code is None else code)
    return entry[1] if entry else ""


def labels(catalogue):
    """{code: label} (lazy text, safe at import time: model choices, form choices)."""
    return {code: words[0] for code, words in catalogue.items()}


def plain_labels(catalogue):
    """{code: label} as plain text, for pure modules (chart builders); call it at run time."""
    return {code: str(words[0]) for code, words in catalogue.items()}
