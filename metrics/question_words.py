"""The everyday words of metric questions: which ask for a number, which for a meaning, and
which change nothing about the number ("what's our", "please", "looking")."""

from __future__ import annotations

import re

# Words that ask for a number rather than a meaning.
NUMBER_CUES = re.compile(
    r"\b(our|we|us|how many|how much|current(ly)?|today|right now|number of|total|so far|"
    r"trend(ing|s)?|tracking|looking like|did|do we have|are we at|on track|on pace|"
    r"how are we doing|how('s| is| are) .* doing)\b")
# Words that ask for a meaning, even when "we" appears ("how do we calculate ...").
MEANING_CUES = re.compile(
    r"\b(defin\w*|mean(s|ing|t)?|formula|calc\w*|comput\w*|measured|what counts|"
    r"how (do|should|does|is|are) (we|you|it|they|one) (count|measure|calculate|compute|"
    r"define|track)|difference between|who owns|the owner|owner of|owned by|includ\w*|"
    r"count(s|ed)? (as|toward|towards|in)|what('s|s| is| are) (a|an) |called|stand for|"
    r"by count|by amount|by number|by value|source of truth|come from|comes from|"
    r"(is|are|does|do) .* the same|divided by|multiplied by|(do|does|should) (we|you|it) use|"
    r"(do|does) (we|you|they|it) (count|measure|track|report|include)|"
    r"what do (we|you|they|people) call|where\b.*\b(from|stored|live|lives|kept|mastered)|"
    r"what('s| is| are) (our |the )?(\w+ )?(targets?|goals?) (for|of|on))\b")
# "vs" between two terms asks how they differ, unless it compares periods or values.
VERSUS = re.compile(r"\b(vs\.?|versus)\b")

# Words that change nothing about the number asked for.
FILLER = frozenset("""
what whats how hows is are was were be been being am do does did done doing have has had
having get gets got gotten getting give gimme show shows tell me us we our ours ive im i my
you your can could would will please pls plz thanks thank hi hey hello ok okay so just quick
quickly real really actually exactly currently current now right today at the a an this that
these those it its there their of on in for to from with by as and or also about over across
within during through up s re ll d ve t far number numbers figure figures value values metric
metrics kpi kpis stat stats total overall whole entire all company companywide wide level
looking look looks like tracking track trending doing going performing stand standing stack
stacking stacks sit sitting land landing landed where see know want need check pull report
latest let lets much many count any yet still here on pace pacing paced target targets goal
goals plan
hitting hit meet meeting met achieve achieving reach reaching behind ahead hows period time
deal deals opportunity opportunities opp opps oppty lead leads account accounts customer
customers logo logos good bad healthy fine strong weak again only combined together
altogether sum date moment presently well each every per broken split grouped region regions segment
segments source sources type types dimension dimensions bot ssot
""".split())
# Words about how a number changed: they change nothing once a comparison is asked for.
CHANGE = frozenset("""
better worse higher lower up down more less fewer improve improved improving grow grew grown
growing growth change changed changes changing increase increased increasing decrease
decreased decreasing drop dropped dropping rise rose fall fell compare compared comparing
comparison vs versus against difference different relative trend trends trending than
""".split())
# Words that only restate what the metric's format already says ("how long" of a cycle in days).
FORMAT_WORDS = {
    "days": frozenset("long time take takes took taking fast quick quickly days day".split()),
    "currency": frozenset("money dollars dollar usd amount worth revenue $".split()),
    "percent": frozenset("% percent percentage share proportion fraction ratio rate".split()),
    "count": frozenset("many number count".split()),
    "multiple": frozenset("x times multiple ratio".split()),
}
# A yes-or-no question ("is an opp closing next quarter in this quarter's pipeline?") asks
# about a meaning unless it is about our number ("is our win rate up").
YES_NO = re.compile(r"^\W*(is|are|was|were|does|do|can|could|should|would|will|has|have)\b")
# "vs target", "against plan": how a number stands against its target, shown with every answer.
AGAINST_TARGET = re.compile(r"\b(?:vs|versus|against|compared (?:to|with)|relative to)"
                            r"(?= (?:the |our |its )?(?:\w+ )?(?:target|plan|goal)s?\b)")
# Irregular forms, so "how many deals did we win" finds "deals won".
_LEMMAS = {"won": "win", "wins": "win", "winning": "win", "lost": "lose", "losing": "lose",
           "loses": "lose", "closed": "close", "closing": "close", "closes": "close"}


def stem(word: str) -> str:
    """A word without its plural "s" or irregular form, for matching names of metrics."""
    if word in _LEMMAS:
        return _LEMMAS[word]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
