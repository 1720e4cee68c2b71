"""`define TERM as of DATE`: the definition that was in force that day, as an `Answer`."""

from __future__ import annotations

import datetime as dt

from bot.state.errors import NotRecorded
from bot.state.models import Version
from bot.state.store import StateStore
from knowledge.answer import Answer, Source
from metrics.errors import BadRequest
from metrics.periods import check_day


def answer_as_of(store: StateStore, term: str, on: dt.date,
                 docs_base_url: str | None = None) -> Answer:
    """The governed definition in force at the end of `on`; NotRecorded says why not."""
    try:
        check_day(on)  # the store looks a day past `on`: 9999-12-31 has no next day
    except BadRequest as exc:
        raise NotRecorded(str(exc)) from None
    latest = store.resolve(term)
    if latest is None:
        raise NotRecorded(f"'{term}' is not in the definition history yet")
    found = store.definition_as_of(latest.definition_id, on, kind=latest.kind)
    if found is None:
        raise NotRecorded(_why_none(store, latest, on))
    return _answer(found, term, on, docs_base_url)


def _why_none(store: StateStore, latest: Version, on: dt.date) -> str:
    first = store.first_recorded(latest.definition_id, kind=latest.kind)
    if first and on < first:
        return (f"no definition of {latest.name} was in force on {on}; the history starts "
                f"on {first}")
    return f"no definition of {latest.name} was in force on {on} (draft or removed)"


def _answer(version: Version, question: str, on: dt.date, docs_base_url: str | None) -> Answer:
    url = f"{docs_base_url.rstrip('/')}/{version.path}" if docs_base_url and version.path else None
    since = version.in_force_from.date() if version.in_force_from else version.recorded_at.date()
    return Answer(
        kind="definition", question=question, id=version.definition_id, name=version.name,
        definition=version.text, owner=version.owner, status=version.status,
        version=version.version, domain=version.domain,
        source=Source(path=version.path, url=url) if version.path else None,
        notice=f"As of {on}: version {version.version}, in force since {since}.",
    )
