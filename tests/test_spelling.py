"""A mistyped word is read as the glossary word it was meant to be; real words are left alone."""

from __future__ import annotations

from knowledge.spelling import Speller

ALIAS_WORDS = ["lead", "pipeline", "velocity", "freshness", "mrr", "arr", "attribution"]
ENGLISH = {"what", "is", "the", "our", "load", "read", "meaning", "balancer"}


def speller() -> Speller:
    return Speller(ALIAS_WORDS, lambda w: w in ENGLISH or w in ALIAS_WORDS)


def test_unknown_words_within_one_edit_are_corrected():
    assert speller().correct("what is our pipeline velocty") == "what is our pipeline velocity"
    assert speller().correct("freshnes?") == "freshness?"
    assert speller().correct("Laed meaning") == "lead meaning"


def test_long_words_may_be_two_edits_away():
    assert speller().correct("atribusion") == "attribution"


def test_known_words_and_short_abbreviations_are_never_rewritten():
    # "load" is a word of its own one letter from "lead"; "mmr" is three letters from MRR,
    # where one edit also reaches ARR, so a guess would be a coin toss.
    assert speller().correct("what is the load balancer") == "what is the load balancer"
    assert speller().correct("mmr") == "mmr"


def test_words_far_from_every_alias_are_kept():
    assert speller().correct("kickoff agenda") == "kickoff agenda"
