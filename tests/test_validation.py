"""Validation names the file, line and field of every problem, and collects them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.errors import ContentError
from knowledge.glossary import check_directory, load_glossary
from metrics.catalog import metric_ids
from tests.conftest import GLOSSARY, write

METRICS = metric_ids()


def problems(root: Path) -> list[str]:
    _, issues = check_directory(root, METRICS)
    return [str(i) for i in issues]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, prefix: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix))


def test_the_shipped_glossary_is_valid():
    glossary = load_glossary(GLOSSARY, METRICS)
    assert len(glossary.terms) >= 53 and len(glossary.guides) >= 6
    assert glossary.lookup("LTV").id == "clv"


def test_missing_field_names_file_and_field(docs):
    mql = docs / "terms" / "mql.md"
    text = mql.read_text(encoding="utf-8")
    owner_block = text[text.index("owner:"): text.index("authoritative_system:")]
    mql.write_text(text.replace(owner_block, ""), encoding="utf-8")
    assert "glossary_docs/terms/mql.md:1: owner: required field is missing" in problems(docs)


def test_wrong_value_points_at_its_line(docs):
    sal = docs / "terms" / "sal.md"
    edit(sal, "status: approved", "status: aproved")
    found = problems(docs)
    line = line_of(sal, "status:")
    assert any(p.startswith(f"glossary_docs/terms/sal.md:{line}: status: Input should be")
               for p in found), found


def test_unquoted_version_and_unknown_field(docs):
    arr = docs / "terms" / "arr.md"
    version = next(x for x in arr.read_text().splitlines() if x.startswith("version:"))
    edit(arr, version, "version: 2.0\nowners_note: x")
    found = problems(docs)
    assert f"glossary_docs/terms/arr.md:{line_of(arr, 'version:')}: version: " \
           'write the version as a quoted string such as "2.0"' in found
    assert any(":owners_note: " not in p and "owners_note: unknown field" in p for p in found)


def test_broken_yaml_reports_its_line(docs):
    cac = docs / "terms" / "cac.md"
    edit(cac, "domain:", "domain: [unclosed\nfoo:")
    found = problems(docs)
    assert len(found) == 1 and found[0].startswith("glossary_docs/terms/cac.md:")
    assert "front matter: invalid YAML" in found[0]


def test_unknown_related_and_metric_ids(docs):
    win = docs / "terms" / "win_rate.md"
    edit(win, "related: [", "related: [no_such_term, ")
    edit(win, "metric: win_rate", "metric: win_ratio")
    found = problems(docs)
    rel, met = line_of(win, "related:"), line_of(win, "metric:")
    assert (f"glossary_docs/terms/win_rate.md:{rel}: related: "
            "'no_such_term' is not the id of any term or guide") in found
    assert (f"glossary_docs/terms/win_rate.md:{met}: metric: "
            "no governed metric 'win_ratio' in metrics/definitions/") in found


def test_duplicate_id_is_an_error(docs):
    source = docs / "guides" / "lead_handoff_process.md"
    text = source.read_text(encoding="utf-8").replace("id: lead_handoff_process", "id: mql", 1)
    write(docs / "guides" / "mql.md", text)
    found = problems(docs)
    assert ("glossary_docs/guides/mql.md:2: id: 'mql' is already used by "
            "glossary_docs/terms/mql.md") in found, found


def test_alias_claimed_by_two_terms_is_an_error(docs):
    sal = docs / "terms" / "sal.md"
    edit(sal, "aliases: [", "aliases: [MQLs, ")
    found = problems(docs)
    line = line_of(sal, "aliases:")
    assert any(p.startswith(f"glossary_docs/terms/sal.md:{line}: aliases: 'MQLs' is already "
                            "claimed by term 'mql'") for p in found), found


def test_deprecated_needs_replacement_and_id_matches_file(docs):
    lead = docs / "terms" / "lead.md"
    edit(lead, "status: approved", "status: deprecated")
    edit(docs / "terms" / "contact.md", "id: contact", "id: contacts")
    found = problems(docs)
    assert any(p.startswith("glossary_docs/terms/lead.md:") and "replaced_by: a deprecated term"
               in p for p in found), found
    assert any("contact.md" in p and "must match the file name 'contact.md'" in p for p in found)


def test_every_problem_is_listed_not_just_the_first(docs):
    edit(docs / "terms" / "sal.md", "status: approved", "status: nope")
    edit(docs / "terms" / "arr.md", "domain:", "domain: nowhere\nx_domain:")
    write(docs / "terms" / "junk.md", "no front matter here\n")
    found = problems(docs)
    files = {p.split(":")[0] for p in found}
    assert {"glossary_docs/terms/sal.md", "glossary_docs/terms/arr.md",
            "glossary_docs/terms/junk.md"} <= files
    with pytest.raises(ContentError) as caught:
        load_glossary(docs, METRICS)
    assert len(caught.value.issues) == len(found)
