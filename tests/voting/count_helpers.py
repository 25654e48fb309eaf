"""Helpers of the count and results tests: a closed vote with real ballots cast through the
vote service (never written by hand)."""

from __future__ import annotations

from civic.budgeting.states import Phase
from civic.extensions import db
from civic.voting import services as vote
from tests.budgeting.factories import set_phase
from tests.conftest import make_user
from tests.voting.factories import VoteSetup, make_vote

# City options: 0 = 30,000 €, 1 = 12,000 €, 2 = 9,000 € (envelope: 40,000 € city-wide).
CITY_BALLOTS = [(0,), (0,), (0, 1), (1, 2), (1, 2), (2,), (0, 2)]


def closed_vote(ballots=CITY_BALLOTS, *, genders=None, close: bool = True, **kw
                ) -> tuple[VoteSetup, list[str]]:
    """A campaign whose city envelope got these ballots (indexes into the city options)
    from distinct residents; then the vote is closed (results phase). Returns the setup
    and the receipts, in order."""
    s = make_vote(**kw)
    receipts = []
    for i, picks in enumerate(ballots):
        gender = (genders or [None] * len(ballots))[i]
        voter = make_user(f"electeur{i}@example.org", gender=gender, birth_year=1980)
        choices = {s.city_options[k].id: 1 for k in picks}
        receipts.append(vote.cast_ballot(voter, s.city, choices))
        db.session.commit()
    if close:
        set_phase(s.campaign, Phase.RESULTS)
    return s, receipts
