"""A small network: two bienveilleurs, two coordinators, an interlocutor's staff member."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from civic.extensions import db
from civic.territory.models import Quartier
from tests.bienveilleurs.factories import make_interlocutor
from tests.conftest import make_territory, make_user


@pytest.fixture
def net(app):
    """Ids and emails of the people and objects of a small network."""
    with app.test_request_context():
        q = make_territory()
        other_q = db.session.execute(select(Quartier).where(Quartier.code == "DEN-03")
                                     ).scalar_one()
        org = make_interlocutor(q)
        other_org = make_interlocutor(None, name="Mission locale", kind="mission_locale",
                                      topics=["employment"], is_public=False)
        admin = make_user("admin@example.org", roles=("admin",))
        users = {
            "bienveilleur": make_user("bruno@example.org", roles=("bienveilleur",)),
            "bienveilleur2": make_user("berthe@example.org", roles=("bienveilleur",)),
            "coordinator": make_user("camille@example.org", roles=("coordinator",)),
            "coordinator2": make_user("claude@example.org", roles=("coordinator",)),
            "partner": make_user("paula@example.org", roles=(("interlocutor", org.id),)),
            "partner2": make_user("pierre@example.org",
                                  roles=(("interlocutor", other_org.id),)),
            "resident": make_user("ines@example.org"),
            "council": make_user("nadia@example.org"),
        }
        from civic.accounts import services as accounts
        from civic.territory import services as territory

        council = territory.save_council(None, None, name="Conseil", quartier_id=q.id)
        accounts.grant_role(admin, users["council"], "council_member", council.id)
        db.session.commit()
        return SimpleNamespace(
            q=q.id, other_q=other_q.id, org=org.id, other_org=other_org.id,
            ids={k: u.id for k, u in users.items()},
            emails={k: u.email for k, u in users.items()})
