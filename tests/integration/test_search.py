"""Text search in the partnerships list goes through the search index (FTS5 trigrams on
SQLite, pg_trgm on PostgreSQL) and finds exactly what a plain substring match would."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text, update

from tests.conftest import PASSWORD
from workflow.listing import Filters, search
from workflow.models import Partnership, Party
from workflow.roles import SYSTEM_ACTOR
from workflow.services import organisations, users

# Characters that mean something to LIKE, to FTS5 query syntax or to SQL quoting.
SPECIAL = '%_\\"\'*()-:^+'
WORDS = ["Pilot", "photonics", "Bio-Med", "50%", "under_score", 'quote"d', "NEAR", "AND",
         "Qianhai", "it's", "x*y", "(draft)"]


def _corpus(database, n=80):
    """n partnerships with titles made of WORDS, written in bulk; returns (admin, texts)."""
    rng = random.Random(11)
    s = database.sessions()
    admin = users.create_user(s, SYSTEM_ACTOR, "admin@example.org", "Admin", "admin", PASSWORD)
    eu = organisations.create_organisation(s, SYSTEM_ACTOR, "Cluster Lombardia", "IT", "cluster")
    cn = organisations.create_organisation(s, SYSTEM_ACTOR, "Shenzhen Optics 100%", "CN", "sme")
    owner, eu_id, cn_id = admin.id, eu.id, cn.id
    s.close()
    texts = {}
    rows, parties = [], []
    for i in range(1, n + 1):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))) + f" {i}"
        reference = f"CP-2026-{i:04d}"
        rows.append({"id": i, "reference": reference, "title": title,
                     "workflow_key": "cluster_partnership", "stage": "draft", "version": 1,
                     "owner_id": owner, "agreement_type": "collaboration"})
        org = cn_id if i % 3 == 0 else None
        parties.append({"partnership_id": i, "organisation_id": eu_id, "role": "lead",
                        "background_none": False})
        if org:
            parties.append({"partnership_id": i, "organisation_id": org, "role": "counterpart",
                            "background_none": False})
        names = ["cluster lombardia"] + (["shenzhen optics 100%"] if org else [])
        texts[i] = (f"{reference} {title}".lower(), names)
    with database.engine.begin() as conn:
        conn.execute(insert(Partnership.__table__), rows)
        conn.execute(insert(Party.__table__), parties)
        if database.kind == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('partnerships', 'id'), "
                              f"{n + 1}, false)"))
    return admin, texts


def _expected(texts, q: str) -> set[int]:
    needle = " ".join(q.split()).lower()
    return {i for i, (own, names) in texts.items()
            if needle in own or any(needle in name for name in names)}


def _found(database, admin, q: str) -> set[int]:
    with database.sessions() as s:
        return {p.id for p in search(s, admin, Filters(q=q), limit=1000).items}


@given(q=st.one_of(
    st.sampled_from(WORDS + ["pilot 4", "ics bio", "0001 pil", "optics 100", "10", "lombard"]),
    st.text(alphabet="abcdeilmnopst 0123456789" + SPECIAL, min_size=1, max_size=8)))
@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
def test_search_finds_exactly_the_substring_matches(database, corpus, q):
    # The corpus is built once for all examples (a function-scoped fixture, on purpose).
    admin, texts = corpus
    if q.strip():
        assert _found(database, admin, q) == _expected(texts, q)


def test_common_text_takes_the_ordered_scan_and_finds_the_same(database, corpus, monkeypatch):
    from workflow import listing

    admin, texts = corpus
    monkeypatch.setattr(listing, "SELECTIVE_MATCHES", 2)  # every text below is "common"
    for q in ["pilot", "cp-2026-00", "50%", "under_score", 'quote"d', "optics 100"]:
        assert len(_expected(texts, q)) > 2, q
        assert _found(database, admin, q) == _expected(texts, q), q


@pytest.fixture
def corpus(database):
    return _corpus(database)


def test_search_index_follows_renames_and_deletes(database):
    admin, _texts = _corpus(database, n=5)
    with database.engine.begin() as conn:
        conn.execute(update(Partnership.__table__).where(Partnership.__table__.c.id == 2)
                     .values(title="Renamed tomography pilot"))
        conn.execute(Party.__table__.delete().where(Party.__table__.c.partnership_id == 3))
        conn.execute(Partnership.__table__.delete().where(Partnership.__table__.c.id == 3))
    assert _found(database, admin, "tomography") == {2}
    assert _found(database, admin, "CP-2026-0003") == set()
    assert _found(database, admin, "cp-2026-000") == {1, 2, 4, 5}


def test_search_combines_with_other_filters_and_pages(database):
    admin, texts = _corpus(database, n=60)
    everything = _expected(texts, "cp-2026")
    with database.sessions() as s:
        seen, cursor = [], None
        while True:
            page = search(s, admin, Filters(q="cp-2026"), cursor=cursor, limit=7)
            seen += [p.id for p in page.items]
            cursor = page.next_cursor
            if not cursor:
                break
        in_china = {p.id for p in search(s, admin, Filters(q="cp-2026", country="CN"),
                                         limit=1000).items}
    assert sorted(seen) == sorted(everything) and len(seen) == len(set(seen))
    assert in_china == {i for i in everything if i % 3 == 0}


@pytest.mark.parametrize("sort", ["updated", "created", "reference", "stage_age"])
def test_selective_text_pages_in_the_same_order_as_the_ordered_scan(database, corpus, sort,
                                                                   monkeypatch):
    from workflow import listing

    admin, _texts = corpus

    def pages(q):
        with database.sessions() as s:
            seen, cursor = [], None
            while True:
                page = search(s, admin, Filters(q=q, sort=sort), cursor=cursor, limit=4)
                seen += [p.id for p in page.items]
                if not (cursor := page.next_cursor):
                    return seen

    for q in ["cp-2026-00", "pilot"]:
        from_index = pages(q)
        monkeypatch.setattr(listing, "SELECTIVE_MATCHES", 0)
        assert pages(q) == from_index and len(from_index) > 4
        monkeypatch.undo()
