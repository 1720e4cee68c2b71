"""Text normalisation shared by the alias table, validation and question parsing."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")
_KEEP_S = ("ss", "us", "is", "ys")
# Leading phrases that ask "what does X mean" in the many ways people type it.
_QUESTION_PREFIX = re.compile(
    r"^(?:(?:hey|hi|so|ok|okay|pls|please|quick q|quick question)\s+)*"
    r"(?:what do (?:we|you|they) mean by\s+|what is meant by\s+"
    r"|(?:what|wat|wht|whats|what s|wats)\s+(?:is|are|r|s|does|do)?\s*"
    r"|(?:can you |could you |pls |please )?(?:define|explain|describe)\s+"
    r"|definition of\s+|meaning of\s+|tell me about\s+)?"
    r"(?:(?:the|a|an|our)\s+)?"
    r"(?:definition of\s+|meaning of\s+)?(?:(?:the|a|an|our)\s+)?"
)
_QUESTION_SUFFIX = re.compile(r"\s+(?:mean|means|meaning|definition|stand for|stands for)$")


# Shorthand people type in chat for the words our terms are named with.
SHORTHAND = {
    "mktg": "marketing", "mkt": "marketing", "rev": "revenue", "cov": "coverage",
    "conv": "conversion", "cust": "customer", "acct": "account", "avg": "average",
    "oppty": "opportunity", "oppy": "opportunity", "opp": "opportunity", "pct": "percent",
    "qtr": "quarter", "yr": "year", "mgmt": "management", "attrib": "attribution",
}


def words(text: str) -> list[str]:
    """Lower-case ASCII words, plural endings removed and chat shorthand spelled out."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("'", "")
    return [singular(SHORTHAND.get(word, word)) for word in _NON_WORD.split(folded) if word]


def singular(word: str) -> str:
    """A deliberately simple singular: enough to match `MQLs` to `MQL`."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 2 and word.endswith("s") and not word.endswith(_KEEP_S):
        return word[:-1]
    return word


def key(text: str) -> str:
    """The alias-table key of a phrase."""
    return " ".join(words(text))


def subject(question: str) -> str:
    """The alias-table key of what a definitional question asks about.

    "What's the MQL?" → "mql"; "define pipeline coverage" → "pipeline coverage".
    """
    raw = " ".join(_NON_WORD.split(question.lower().replace("'", " "))).strip()
    raw = _QUESTION_PREFIX.sub("", raw, count=1)
    raw = _QUESTION_SUFFIX.sub("", raw)
    return key(raw)
