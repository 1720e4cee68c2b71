"""Checks across files: ids are unique, references resolve, no alias means two things."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from knowledge.issues import Issue
from knowledge.loading import Loaded
from knowledge.models import Guide, Term
from knowledge.normalize import key


def cross_check(loaded: Loaded, metric_ids: Iterable[str] | None = None) -> list[Issue]:
    """Issues that only show when all files are read together; `metric_ids=None` skips metrics."""
    docs: list[Term | Guide] = [*loaded.terms, *loaded.guides]
    issues = _duplicate_ids(docs)
    known = {doc.id for doc in docs} | loaded.unreadable
    for doc in docs:
        issues.extend(_unknown_refs(doc, "related", doc.related, known))
    for term in loaded.terms:
        if term.replaced_by:
            issues.extend(_unknown_refs(term, "replaced_by", [term.replaced_by], known))
        if term.metric and metric_ids is not None and term.metric not in set(metric_ids):
            msg = f"no governed metric '{term.metric}' in metrics/definitions/"
            issues.append(Issue(path=term.path, line=_line(term, "metric"), field="metric",
                                message=msg))
    issues.extend(_alias_collisions(docs))
    issues.extend(_question_collisions(docs))
    return issues


def _duplicate_ids(docs: list[Term | Guide]) -> list[Issue]:
    first: dict[str, Term | Guide] = {}
    issues = []
    for doc in docs:
        if doc.id in first:
            msg = f"'{doc.id}' is already used by {first[doc.id].path}"
            issues.append(Issue(path=doc.path, line=_line(doc, "id"), field="id", message=msg))
        else:
            first[doc.id] = doc
    return issues


def _unknown_refs(doc: Term | Guide, field: str, refs: Iterable[str], known: set[str]) -> list:
    return [
        Issue(path=doc.path, line=_line(doc, field), field=field,
              message=f"'{ref}' is not the id of any term or guide")
        for ref in refs if ref not in known
    ]


def _alias_collisions(docs: list[Term | Guide]) -> list[Issue]:
    """Every id, name and alias must lead to exactly one term or guide."""
    return _claimed_twice(docs, "aliases", term_phrases, "claimed")


def _question_collisions(docs: list[Term | Guide]) -> list[Issue]:
    """An example question listed by two documents would make them compete for it."""
    return _claimed_twice(docs, "questions", lambda doc: doc.questions, "listed")


def _claimed_twice(docs: list[Term | Guide], field: str,
                   phrases: Callable[[Term | Guide], Iterable[str]], verb: str) -> list[Issue]:
    """Issues for each phrase (compared by its normalised key) that two documents both use."""
    owner: dict[str, Term | Guide] = {}
    issues = []
    for doc in docs:
        for phrase in phrases(doc):
            claimed = owner.setdefault(key(phrase), doc)
            if claimed.id != doc.id:
                msg = (f"'{phrase}' is already {verb} by {claimed.kind} '{claimed.id}' "
                       f"({claimed.path})")
                issues.append(Issue(path=doc.path, line=_line(doc, field), field=field,
                                    message=msg))
    return issues


def term_phrases(term: Term | Guide) -> list[str]:
    """The phrases that name a document exactly: id, name, the name without its (ABBR), aliases."""
    phrases = [term.id.replace("_", " "), term.name, *term.aliases]
    if "(" in term.name:
        before, _, inside = term.name.partition("(")
        phrases += [before, inside.rstrip(")")]
    seen: dict[str, str] = {}
    for phrase in phrases:
        seen.setdefault(key(phrase), phrase)
    return [p for k, p in seen.items() if k]


def _line(doc: Term | Guide, field: str) -> int:
    return doc.field_lines.get(field, 1)
