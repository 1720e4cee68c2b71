"""Finding governed terms in chat text: whole words, longest first, capitals where it matters."""

from __future__ import annotations

import pytest

from knowledge.mentions import find_mentions, looks_definitional


def ids(kb, text: str) -> list[str]:
    return [m.term_id for m in find_mentions(text, kb.glossary)]


def test_terms_are_found_by_alias_in_order_once_each(kb):
    text = "Our MQLs doubled, SQL is flat, and MQL quality dropped; pipeline coverage is 2.1x"
    assert ids(kb, text) == ["mql", "sql", "pipeline_coverage"]


def test_capitalised_aliases_match_only_in_capitals(kb):
    assert ids(kb, "can you send me the sql for that dashboard?") == []
    assert ids(kb, "how many SQLs did we get?") == ["sql"]
    assert ids(kb, "arr is a pirate word; ARR is revenue") == ["arr"]


def test_other_aliases_match_in_any_case_as_whole_words_longest_first(kb):
    assert ids(kb, "Marketing qualified leads are not leads yet") == ["mql", "lead"]
    assert ids(kb, "the pipelines team") == []  # not a whole-word alias


@pytest.mark.parametrize(("text", "expected"), [
    ("what's the definition of SAL?", True), ("what do we mean by pipeline?", True),
    ("define ARR", True), ("what is an MQL?", True),
    ("lunch at noon?", False), ("MQLs are up this week", False), ("what time is standup?", False),
])
def test_definitional_questions(text, expected):
    assert looks_definitional(text) is expected
