"""A definition change as an Adaptive Card: before and after, verbatim, with the facts."""

from __future__ import annotations

from microsoft_teams.cards import AdaptiveCard, CardElement, Fact, FactSet, RichTextBlock, TextRun

from bot.state.models import Change
from bot.teams.cards import MAX_TEXT, fit, shorten

_TITLES = {
    "added": "New definition", "changed": "Definition changed", "approved": "Approved",
    "deprecated": "Deprecated", "removed": "Removed",
}


def notification_card(change: Change, docs_base_url: str | None = None) -> AdaptiveCard:
    """The card announcing one change (governed text in TextRuns: never read as Markdown)."""
    kind = "metric" if change.kind == "metric" else "term"
    body: list[CardElement] = [_run(f"{_TITLES[change.change]}: {change.name}", size="Large",
                                    weight="Bolder")]
    if change.change == "removed":
        body += [_run(f"This {kind} is no longer governed. Its last definition was:",
                      is_subtle=True), _run(change.text)]
    elif change.before is not None and change.before != change.text:
        body += [_run(f"Before (version {change.previous_version})", weight="Bolder"),
                 _run(change.before),
                 _run(f"After (version {change.version})", weight="Bolder"),
                 _run(change.text)]
    else:
        if change.before is not None:
            body.append(_run("The definition text is unchanged.", is_subtle=True))
        body.append(_run(change.text))
    body.append(FactSet(facts=_facts(change, docs_base_url)))
    return fit(AdaptiveCard(body=body))


def summary(change: Change) -> str:
    """One line for the activity feed and screen readers."""
    return f"{_TITLES[change.change]}: {change.name} (version {change.version})"


def _facts(change: Change, docs_base_url: str | None) -> list[Fact]:
    facts = [Fact(title="Owner", value=change.owner),
             Fact(title="Version", value=change.version_shown),
             Fact(title="Status", value=change.status_shown)]
    if change.path:
        url = f"{docs_base_url.rstrip('/')}/{change.path}" if docs_base_url else None
        facts.append(Fact(title="Source", value=f"[{change.path}]({url})" if url
                          else change.path))
    return facts


def _run(text: str, **style) -> RichTextBlock:
    return RichTextBlock(inlines=[TextRun(text=shorten(text, MAX_TEXT), **style)])
