"""Reading a words catalogue: ``{code: (label, sentence)}`` dicts kept in each app's
``words`` module (therapy/words.py, visits/words.py, safety/kinds.py; see
docs/architecture.md, "Words"). Plumbing: imports no app."""


def label(catalogue, code):
    """The label of ``code`` in ``catalogue``; an unknown code reads as its words, never as an error."""
    entry = catalogue.get("" if code is None else code)
    return entry[0] if entry else str(code or "").replace("_", " ")


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
