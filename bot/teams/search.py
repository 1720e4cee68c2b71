"""The "Define a term" search: glossary terms matching what is typed, as cards to insert."""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz, process

from bot.chat.asked import Asked
from bot.chat.replies import first_sentence
from bot.services import Services
from bot.teams import cards

MAX_RESULTS = 10  # what Teams shows in the result list


def matching_terms(services: Services, query: str) -> list[str]:
    """Term ids by how well their id, name or aliases match `query`; all terms when empty."""
    terms = services.knowledge.glossary.terms
    wanted = " ".join(query.lower().split())
    if not wanted:
        return sorted(terms, key=lambda t: terms[t].name.lower())[:MAX_RESULTS]
    names = {(term.id, name.lower()) for term in terms.values()
             for name in (term.id, term.name, *term.aliases)}
    exact = {tid for tid, name in names if name == wanted}
    starts = sorted({tid for tid, name in names if name.startswith(wanted)} - exact,
                    key=lambda t: terms[t].name.lower())
    choices = {f"{tid}\n{name}": name for tid, name in names}
    close = process.extract(wanted, choices, scorer=fuzz.WRatio, limit=3 * MAX_RESULTS,
                            score_cutoff=70)
    ranked = sorted(exact) + starts + [key.split("\n", 1)[0] for _, _, key in close]
    return list(dict.fromkeys(ranked))[:MAX_RESULTS]


def definitions(services: Services, query: str) -> list[Any]:
    """Result attachments: a preview line per term, its definition card when inserted."""
    from microsoft_teams.api import AdaptiveCardAttachment, card_attachment
    from microsoft_teams.api.models import MessagingExtensionAttachment, ThumbnailCard
    from microsoft_teams.api.models.attachment.card_attachment import ThumbnailCardAttachment

    found = []
    for term_id in matching_terms(services, query):
        # Inserted into any conversation: no restricted value may ride along.
        answer = services.define(term_id)
        if answer.kind == "no_answer":
            continue
        card = card_attachment(AdaptiveCardAttachment(
            content=cards.answer_card(answer, Asked(via="define", text=term_id))))
        preview = card_attachment(ThumbnailCardAttachment(content=ThumbnailCard(
            title=answer.name, text=first_sentence(answer.definition or ""), images=[])))
        found.append(MessagingExtensionAttachment(
            content_type=card.content_type, content=card.content, preview=preview))
    return found
