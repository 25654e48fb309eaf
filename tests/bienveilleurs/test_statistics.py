"""Aggregated statistics: counts under 5 are never published, in pages or in the API."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from civic.accounts.models import User
from civic.bienveilleurs.services import (
    Cell,
    network_statistics,
    rounded,
    statistics_period,
    suppress_table,
)
from civic.extensions import db
from tests.bienveilleurs.factories import make_referral
from tests.conftest import login


def _values(row: dict[str, Cell]) -> dict[str, int | None]:
    return {k: c.value for k, c in row.items()}


def test_small_counts_are_suppressed_with_their_complement():
    table = suppress_table({"A": {"x": 3, "y": 10, "z": 0}, "B": {"x": 6, "y": 7},
                            "C": {"x": 2, "y": 1}, "D": {}}, ["x", "y", "z"])
    # 3 is hidden; 10 too, or 13 - 10 would give it away. Zeros reveal nobody.
    assert _values(table["A"]) == {"x": None, "y": None, "z": 0, "total": 13}
    assert _values(table["B"]) == {"x": 6, "y": 7, "z": 0, "total": 13}
    assert _values(table["C"]) == {"x": None, "y": None, "z": 0, "total": None}
    assert _values(table["D"]) == {"x": 0, "y": 0, "z": 0, "total": 0}
    # Two hidden cells in a row cannot be told apart from the total: no extra hiding.
    assert _values(suppress_table({"E": {"x": 2, "y": 3, "z": 9}}, ["x", "y", "z"])["E"]) \
        == {"x": None, "y": None, "z": 9, "total": 14}


def test_rounding_hides_small_differences_between_overlapping_periods():
    assert (rounded(12, 5), rounded(13, 5), rounded(5, 5), rounded(0, 5)) == (10, 15, 5, 0)
    assert rounded(7, 1) == 7  # the default: exact (turnout tables)
    # This year's figures are published again each month for a longer period: the
    # difference between two publications must never be the 1 to 4 people added.
    for before in range(5, 60):
        for added in range(1, 5):
            a = suppress_table({"Q": {"x": before, "y": 5}}, ["x", "y"], 5)["Q"]
            b = suppress_table({"Q": {"x": before + added, "y": 5}}, ["x", "y"], 5)["Q"]
            for column in ("x", "total"):
                assert a[column].value % 5 == 0 and b[column].value % 5 == 0
                assert b[column].value - a[column].value != added


LAST_YEAR = date.today().year - 1


def _referrals(app, net, n: int, quartier_id: int, need: str) -> None:
    """Referrals recorded last year (a published, complete period)."""
    with app.test_request_context():
        author = db.session.get(User, net.ids["bienveilleur"])
        from civic.territory.models import Quartier

        q = db.session.get(Quartier, quartier_id)
        for _ in range(n):
            r = make_referral(author, q, need=need)
            r.created_at = r.created_at.replace(year=LAST_YEAR, month=6, day=15)
        db.session.commit()


def test_only_whole_years_and_past_months_are_published():
    assert statistics_period(2025, date(2026, 11, 22)) == (date(2025, 1, 1), date(2025, 12, 31))
    assert statistics_period(2026, date(2026, 11, 22)) == (date(2026, 1, 1), date(2026, 10, 31))
    start, end = statistics_period(2026, date(2026, 1, 5))
    assert end < start  # nothing of January is published while January runs


def test_statistics_page_and_api_publish_no_small_count(app, net, client):
    _referrals(app, net, 8, net.q, "isolation")
    _referrals(app, net, 2, net.other_q, "health")
    with app.app_context():
        stats = network_statistics(date(2000, 1, 1), date(2100, 1, 1))
        from civic.territory.models import Quartier

        big = db.session.get(Quartier, net.q).code
        small = db.session.get(Quartier, net.other_q).code
        assert stats.by_need[big]["isolation"].value == 10  # 8, rounded to a multiple of 5
        assert stats.by_need[small]["health"].value is None
        assert stats.by_need[small]["total"].value is None
    login(client, net.emails["council"])
    html = client.get(f"/bienveilleurs/statistiques?year={LAST_YEAR}").get_data(as_text=True)
    assert "&lt; 5" in html and ">10<" in html and ">8<" not in html
    # This year's page does not show last year's referrals.
    assert ">10<" not in client.get("/bienveilleurs/statistiques").get_data(as_text=True)
    assert client.get("/bienveilleurs/coordination").status_code == 403  # statistics only
    data = client.get(f"/api/v1/bienveilleurs/statistics?year={LAST_YEAR}").get_json()
    rows = {q["code"]: q for q in data["quartiers"]}
    assert rows[big]["referrals_by_need"]["isolation"] == 10
    assert rows[small]["referrals_by_need"]["health"] is None
    assert data["suppression_threshold"] == 5 and data["rounding_base"] == 5
    body = client.get("/api/v1/bienveilleurs/statistics").get_data(as_text=True)
    assert "Secret" not in body and "Jeanne" not in body
    assert client.get("/api/v1/bienveilleurs/statistics?year=abc").status_code == 400


def test_anonymous_sees_only_the_public_side(client, net):
    for url in ("/bienveilleurs/reseau", "/bienveilleurs/rejoindre", "/bienveilleurs/annuaire",
                "/bienveilleurs"):
        assert client.get(url).status_code in (200, 302), url
    for url in ("/bienveilleurs/statistiques", "/bienveilleurs/signalements",
                "/conciergerie-emploi", "/bienveilleurs/coordination"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/compte/connexion" in resp.location, url


def _page(client, year: int) -> str:
    return client.get(f"/bienveilleurs/statistiques?year={year}").get_data(as_text=True)


def test_published_figures_stay_frozen_until_a_coordinator_publishes_a_revision(
        app, net, client):
    from civic.audit import AuditEntry
    from civic.bienveilleurs.models import StatisticsRelease
    from tests.conftest import csrf_from

    _referrals(app, net, 8, net.q, "isolation")
    login(client, net.emails["coordinator"])
    html = _page(client, LAST_YEAR)
    assert ">10<" in html and "Revision" not in html and "Révision" not in html
    first = client.get(f"/api/v1/bienveilleurs/statistics?year={LAST_YEAR}").get_json()
    assert first["revision"] == 1 and first["published_at"]
    # Referrals of the period recorded afterwards do not change what was published.
    _referrals(app, net, 5, net.q, "isolation")  # 13 now: 15 once rounded
    assert ">10<" in _page(client, LAST_YEAR) and ">15<" not in _page(client, LAST_YEAR)
    again = client.get(f"/api/v1/bienveilleurs/statistics?year={LAST_YEAR}").get_json()
    assert again == first
    # A revision needs the CSRF token and the coordinator's permission.
    url = f"/bienveilleurs/statistiques/{LAST_YEAR}/reviser"
    assert client.post(url).status_code == 400
    token = csrf_from(html)
    resp = client.post(url, data={"csrf_token": token})
    assert resp.status_code == 302
    html = _page(client, LAST_YEAR)
    assert ">15<" in html and ("Révision 2" in html or "Revision 2" in html)
    revised = client.get(f"/api/v1/bienveilleurs/statistics?year={LAST_YEAR}").get_json()
    assert revised["revision"] == 2
    assert any(q["referrals_by_need"]["isolation"] == 15 for q in revised["quartiers"])
    with app.app_context():
        releases = db.session.execute(select(StatisticsRelease).order_by(
            StatisticsRelease.revision)).scalars().all()
        assert [r.revision for r in releases] == [1, 2]
        assert releases[1].published_by_id == net.ids["coordinator"]
        for r in releases:  # only published (suppressed) values are stored
            doc = json.loads(r.payload)
            for table in ("by_need", "by_outcome", "network", "conciergerie"):
                for cells in doc[table].values():
                    assert all(v is None or (v % 5 == 0) for v in cells.values())
        assert db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "bienveilleurs.statistics_revised")).scalar_one()


def test_only_coordinators_revise_and_an_unpublished_year_cannot_be(app, net, client):
    from civic.bienveilleurs.services import BienveilleursError, revise_statistics

    login(client, net.emails["council"])
    html = _page(client, LAST_YEAR)
    assert "reviser" not in html  # no revision button for a council member
    from tests.conftest import csrf_from

    resp = client.post(f"/bienveilleurs/statistiques/{LAST_YEAR}/reviser",
                       data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 403
    with app.test_request_context():
        coordinator = db.session.get(User, net.ids["coordinator"])
        with pytest.raises(BienveilleursError):
            revise_statistics(coordinator, 2030, today=date(2030, 1, 10))


def test_the_monthly_command_freezes_closed_periods_once(app, net):
    from civic.bienveilleurs.services import publish_due_statistics

    with app.app_context():
        today = date(LAST_YEAR + 1, 3, 10)
        assert publish_due_statistics(today) == 2  # last year, and January-February
        db.session.commit()
        assert publish_due_statistics(today) == 0
        # In January nothing of the new year is published yet: only last year's.
        assert publish_due_statistics(date(LAST_YEAR + 2, 1, 5)) == 1
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["bienveilleurs", "publish-statistics"])
    assert result.exit_code == 0 and "statistics published:" in result.output
