"""Which part of a definition a question asks for: a named section, or the moment of a stage change.

"Example of pipeline coverage" asks for a term's Example, "what do people get wrong about ARR"
for its Common mistakes, "how is win rate calculated" for its Formula. "When does a lead become
an MQL" asks when a record enters a stage, which the MQL term's Criteria decide.
"""

from __future__ import annotations

import re

# A term body's sections, by the words that ask for each one.
_ASKS_FOR = [
    ("Example", re.compile(r"\b(?:examples?|for instance|worked|illustrat\w*|sample)\b", re.I)),
    ("Common mistakes", re.compile(
        r"\b(?:mistakes?|pitfalls?|gotchas?|get(?:s|ting)?\s+(?:\w+\s+)?wrong|wrong about"
        r"|to avoid|errors? (?:people|teams?) make)\b", re.I)),
    ("Formula", re.compile(r"\b(?:calculat|comput|formula|work(?:ed)? out|measur)", re.I)),
    ("Criteria", re.compile(r"\b(?:criteria|criterion|requirements?|rules? for|qualifies)\b",
                            re.I)),
]

# "when does a lead become an MQL", "what moves a deal to closed won", "at what point does an
# MQL become an SAL": the stage named after the verb is the one whose criteria answer.
_TRIGGER = (r"^(?:so\s+|and\s+)?(?:when|at what (?:point|stage|score)|what (?:point|score"
            r"|moves|turns|triggers|has to happen|needs to happen|must happen)"
            r"|how (?:does|do|is|are|can)|once)\b")
_STAGE_CHANGE = re.compile(
    _TRIGGER + r".*?\b(?:becomes?|turns? into|counts? as|considered(?: as)?|converts? (?:in)?to"
    r"|converted (?:in)?to|qualif(?:y|ies) as|moved? (?:in)?to|moves (?:in)?to"
    r"|gets? (?:moved |promoted )?to|gets? (?=\w+ed\b)|enters?|reach(?:es)?)\s*(?:an?\s+|the\s+)?"
    r"(?P<stage>[^?,;]+)",
    re.IGNORECASE,
)
# "what makes a lead an MQL", "what moves a deal to closed won".
_MAKES = re.compile(r"^what (?:makes\s+(?:an?\s+|the\s+)?\w+(?:\s\w+)??\s+(?:an?|the)"
                    r"|(?:moves|turns|gets|puts)\s+.+?\s+(?:in)?to(?:\s+(?:an?|the))?)\s+"
                    r"(?P<stage>[^?,;]+)", re.IGNORECASE)
_STAGE_END = re.compile(r"\s+(?:instead|rather|and|or|for|in|on|if|when|before|after|from"
                        r"|so|by|with|at|back)\b.*$", re.IGNORECASE)


# "Can an SQL go back to SAL?", "skip SAL": a move between stages, which a guide rules.
_MOVES_BETWEEN = re.compile(
    r"\b(?:go(?:es)?|going|move[sd]?|moving|sen[dt]|return(?:s|ed)?|revert(?:s|ed)?)\s+back\b"
    r"|\bskip(?:s|ped|ping)?\b", re.IGNORECASE)


def moves_between(question: str) -> bool:
    """Whether a question asks about moving a record back, or past a stage."""
    return bool(_MOVES_BETWEEN.search(question))


def asked_section(question: str) -> str | None:
    """The term section a question asks for by name, if it does."""
    return next((title for title, words in _ASKS_FOR if words.search(question)), None)


def stage_named(question: str) -> str | None:
    """The stage a "when does X become Y" question is about (Y), or None."""
    found = _STAGE_CHANGE.search(question) or _MAKES.search(question)
    if not found:
        return None
    stage = _STAGE_END.sub("", found.group("stage").strip(" ?.!"))
    return stage or None
