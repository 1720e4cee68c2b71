"""Reject questions that cannot be searched, with a message the asker can act on."""

from __future__ import annotations

import unicodedata

from knowledge.errors import InvalidQuestion

MAX_CHARS = 500


def clean_question(raw: str | bytes) -> str:
    """The question with whitespace collapsed; raises InvalidQuestion when it is not a question."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if not text.strip():
        raise InvalidQuestion("The question is empty: ask about a term, e.g. \"what is an MQL?\"")
    if len(text) > MAX_CHARS:
        raise InvalidQuestion(
            f"The question is {len(text):,} characters long; keep it under {MAX_CHARS} "
            "(ask about one term or process at a time)."
        )
    junk = sum(1 for ch in text if ch == "\ufffd" or _is_control(ch))
    if junk > max(1, len(text) // 20):
        raise InvalidQuestion("The question is not readable text (it contains binary data).")
    text = " ".join("".join(" " if _is_control(ch) else ch for ch in text).split())
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuestion(
            "The question has no words in it: ask about a term, e.g. \"what is an MQL?\""
        )
    return text


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in "\t\n\r"
