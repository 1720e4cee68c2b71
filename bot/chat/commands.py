"""`help | glossary | metrics | subscribe | unsubscribe | subscriptions | history | changes |
gaps | autoanswer`: the bot's own settings and lists, one function per word.

Slack users type them after `/ssot`; Teams users after a mention or in a personal chat,
where `define …` and `metric …` are commands too (`typed`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from bot.chat.markup import escape
from bot.chat.replies import Replies
from bot.chat.reply import Reply, Where, message, never_silent
from bot.chat.words import Words
from bot.state.models import Change
from metrics.errors import BadRequest
from metrics.periods import check_day


def help_text(words: Words) -> str:
    """What the bot answers and every command, in the words of the surface it is shown on."""
    d, m, s = words.define, words.metric, words.ssot
    return f"""*What I answer*
• Ask in a direct message, or mention me in a channel: _@ssot what is an MQL?_ (I reply in \
the thread, and answer follow-ups there without a mention)
• `{d} TERM` (also `{d} mql as of 2025-03-01`)
• `{m} ID-or-question [period] [by DIM] [where DIM=VALUE]`, \
e.g. `{m} pipeline coverage this quarter by segment`
*{'`/ssot` commands' if s.strip() else 'Settings and lists'}*
• `{s}glossary [domain]`: the governed terms, by domain
• `{s}metrics`: the governed metrics
• `{s}subscribe TERM|DOMAIN|all` and `{s}unsubscribe …`: hear about definition changes \
here; `{s}subscriptions` lists this channel's
• `{s}history TERM`: every version of a definition
• `{s}changes [YYYY-MM-DD]`: recent definition changes
• `{s}gaps`: the most-asked questions the glossary could not answer (glossary owners)
• `{s}autoanswer on|off`: answer definitional questions here without a mention"""


@never_silent
def run(replies: Replies, text: str, where: Where) -> Reply:
    """The reply to `/ssot TEXT`; unknown words get the help."""
    word, _, rest = text.strip().partition(" ")
    command = _COMMANDS.get(word.lower())
    if command is None:
        prefix = f"Unknown command `{escape(word)}`.\n" if word and word != "help" else ""
        return message(prefix + help_text(replies.words))
    return command(replies, rest.strip(), where)


def typed(replies: Replies, text: str, where: Where) -> Reply | None:
    """A command typed as a message (`define mql`, `subscribe mql`, `help`), or None: a
    question."""
    word, _, rest = text.strip().partition(" ")
    word = word.lower()
    if word == "define":
        return replies.define(rest, where)
    if word == "metric":
        return replies.metric(rest, where)
    if word == "help" and not rest.strip():
        return run(replies, "help", where)
    if word in _COMMANDS and _command_like(rest):
        return run(replies, text, where)
    return None


def _command_like(rest: str) -> bool:
    # "glossary" and "changes" are commands; "changes to the MQL definition?" is a question.
    return not rest.rstrip().endswith("?") and len(rest.split()) <= 3


def _glossary(replies: Replies, domain: str, where: Where) -> Reply:
    terms = replies.services.knowledge.glossary.terms.values()
    domains = sorted({t.domain for t in terms})
    if domain and domain.lower() not in domains:
        return message(f"Unknown domain `{escape(domain)}`. Domains: {', '.join(domains)}.")
    return message(glossary_text(terms, domain.lower() or None))


def glossary_text(terms, domain: str | None = None) -> str:
    """Term names by domain, one line per domain (also used on App Home)."""
    by_domain: dict[str, list[str]] = defaultdict(list)
    for term in sorted(terms, key=lambda t: t.name.lower()):
        if domain in (None, term.domain):
            by_domain[term.domain].append(f"{escape(term.name)} (`{term.id}`)")
    return "\n".join(f"*{d.replace('_', ' ').title()}*: {', '.join(names)}"
                     for d, names in sorted(by_domain.items()))


def _metrics(replies: Replies, _rest: str, where: Where) -> Reply:
    metrics = sorted((v for (kind, _), v in replies.store.latest_versions().items()
                      if kind == "metric" and v.change != "removed"), key=lambda v: v.name)
    if not metrics:
        return message("No governed metrics are recorded yet.")
    lines = [f"• *{escape(m.name)}* (`{m.definition_id}`): {escape(m.owner)}" for m in metrics]
    return message(f"*Governed metrics* (ask with `{replies.words.metric} ID [period]`)\n"
                   + "\n".join(lines))


def _subscribe(replies: Replies, target: str, where: Where) -> Reply:
    resolved = _target(replies, target)
    if isinstance(resolved, Reply):
        return resolved
    added = replies.store.subscribe(where.channel, resolved, surface=where.surface)
    what = "every definition" if resolved == "all" else f"`{resolved}`"
    if not added:
        return message(f"This channel already hears about changes to {what}.")
    return message(f"Subscribed: this channel will hear about changes to {what}.")


def _unsubscribe(replies: Replies, target: str, where: Where) -> Reply:
    resolved = _target(replies, target)
    if isinstance(resolved, Reply):
        return resolved
    if replies.store.unsubscribe(where.channel, resolved, surface=where.surface):
        return message(f"Unsubscribed from `{resolved}`.")
    return message(f"This channel was not subscribed to `{resolved}`.")


def _target(replies: Replies, target: str) -> str | Reply:
    if not target:
        return message("Name a term, a domain or `all`, e.g. "
                       f"`{replies.words.ssot}subscribe mql`.")
    resolved = replies.store.resolve_target(target)
    if resolved is None:
        return message(f"No term, metric or domain is called `{escape(target)}`.")
    return resolved


def _subscriptions(replies: Replies, _rest: str, where: Where) -> Reply:
    from bot.state.delivery import failing

    subs = replies.store.subscriptions(where.channel, surface=where.surface)
    listed = ("This channel hears about changes to: " + ", ".join(f"`{s.target}`" for s in subs)
              if subs else "This channel has no subscriptions. Try "
              f"`{replies.words.ssot}subscribe mql`.")
    why = (failing(replies.store, where.channel, surface=where.surface).get(where.channel)
           if where.channel else None)
    if why:
        listed += f"\nNotifications to this channel are failing: {escape(why)}"
    return message(listed)


def _history(replies: Replies, term: str, where: Where) -> Reply:
    found = replies.store.resolve(term) if term else None
    if found is None:
        return message(f"No recorded definition is called `{escape(term)}`."
                       if term else f"Usage: `{replies.words.ssot}history TERM`.")
    lines = [f"• {v.recorded_at.date()}  v{v.version}  {v.status}  _{v.change}_  "
             f"({escape(v.owner)})" for v in replies.store.history(found.definition_id)]
    return message(f"*History of {escape(found.name)}*\n" + "\n".join(lines))


def _changes(replies: Replies, since: str, where: Where) -> Reply:
    try:
        day = check_day(dt.date.fromisoformat(since)) if since else None
    except ValueError:
        return message(f"'{escape(since)}' is not a date: write it as YYYY-MM-DD.")
    except BadRequest as exc:  # the same days as every other command accepts
        return message(f"{exc}.")
    changes = replies.store.recent_changes(since=day, limit=20)
    if not changes:
        return message("No definition changes recorded" + (f" since {day}." if day else "."))
    return message("*Recent definition changes*\n" + "\n".join(map(change_line, changes)))


def change_line(change: Change) -> str:
    """One line per change (also used on App Home)."""
    return (f"• {change.recorded_at.date()}  *{escape(change.name)}* {change.change}, "
            f"now v{change.version} ({change.status})")


def _gaps(replies: Replies, _rest: str, where: Where) -> Reply:
    # The list quotes what people typed in any channel: only the owners who act on it see it.
    if where.user not in replies.owners:
        return message(_not_an_owner(replies.owners, replies.words))
    gaps = replies.store.gaps(limit=15)
    if not gaps:
        return message("No unanswered questions recorded.")
    lines = [f"• {g.count}×  {escape(g.question)}  (last {g.last_asked.date()})" for g in gaps]
    return message("*Most-asked questions without a good answer*\n" + "\n".join(lines))


def _not_an_owner(owners: frozenset[str], words: Words) -> str:
    """Who may see the unanswered questions, for everyone else who asks."""
    if not owners:
        return ("Only glossary owners can see the unanswered questions, and none are set up "
                "yet: list their user ids in `SSOT_OWNERS`.")
    names = ", ".join(words.user(user) for user in sorted(owners))
    return f"Only glossary owners can see the unanswered questions: {names}; ask one of them."


def _autoanswer(replies: Replies, value: str, where: Where) -> Reply:
    if value.lower() not in ("on", "off"):
        return message(f"Usage: `{replies.words.ssot}autoanswer on` or "
                       f"`{replies.words.ssot}autoanswer off`.")
    replies.store.set_autoanswer(where.channel, value.lower() == "on", surface=where.surface)
    if value.lower() == "on":
        return message("Autoanswer is on: I answer definitional questions in this channel "
                       "without a mention, when I am confident.")
    return message("Autoanswer is off: mention me to ask.")


_COMMANDS: dict[str, Callable[[Replies, str, Where], Reply]] = {
    "glossary": _glossary, "metrics": _metrics, "subscribe": _subscribe,
    "unsubscribe": _unsubscribe, "subscriptions": _subscriptions, "history": _history,
    "changes": _changes, "gaps": _gaps, "autoanswer": _autoanswer,
}
