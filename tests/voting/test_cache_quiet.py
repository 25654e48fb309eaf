"""Casting a ballot leaves the visitors' page cache alone (no cacheable page shows ballots
while a vote runs); any other write still empties it."""

from __future__ import annotations

from sqlalchemy import select

from civic.core.cache import page_cache
from civic.extensions import db
from civic.territory.models import Commune
from tests.conftest import login
from tests.voting.test_confirm_fast import _review
from tests.voting.test_vote_views import (
    VOTER,
    _confirm,
    approval,  # noqa: F401 - fixture
    english,  # noqa: F401 - fixture
)


def test_a_ballot_keeps_the_cache_and_another_write_empties_it(app, english, approval):  # noqa: F811
    cache = page_cache(app)
    assert cache is not None
    login(english, VOTER)
    data = _review(english, approval.quartier, approval.quartier_options[0])  # a draft
    before = cache.read_generation()
    resp = _confirm(english, approval.quartier, data)
    assert resp.status_code == 200 and "Your vote is recorded" in resp.get_data(as_text=True)
    assert cache.read_generation() == before
    with app.app_context():
        commune = db.session.execute(select(Commune)).scalars().first()
        commune.name = commune.name + " (renamed)"
        db.session.commit()
    assert cache.read_generation() != before


def test_a_commit_mixing_a_ballot_table_and_another_empties_it(app):
    from civic.core import cache as cache_module

    with app.app_context():
        session = db.session()
        session.info[cache_module._WROTE] = {"ballot", "proposal"}
        before = page_cache(app).read_generation()
        cache_module._after_commit(session)
        assert page_cache(app).read_generation() != before
        session.info[cache_module._WROTE] = {"ballot", "vote_participation"}
        before = page_cache(app).read_generation()
        cache_module._after_commit(session)
        assert page_cache(app).read_generation() == before
