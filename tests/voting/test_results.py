"""The results pages: preview and publication, turnout with small-cell suppression, the
chained ballot list and its tamper evidence, the receipt check, the downloads."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select, update

from civic.counting.pabulib import parse_pabulib
from civic.extensions import db
from civic.voting import count as counting
from civic.voting.models import Ballot
from tests.conftest import PASSWORD, csrf_from, make_user, post_form
from tests.voting.count_helpers import CITY_BALLOTS, closed_vote

BASE = "/budget-participatif/campagnes"


def _login(client, email):
    post_form(client, "/compte/connexion", {"email": email, "password": PASSWORD})


def _published(app, **kw):
    with app.app_context():
        s, receipts = closed_vote(**kw)
        coord = make_user("coord2@example.org", roles=("coordinator",))
        counting.count_campaign(s.campaign, coord)
        counting.publish_results(s.campaign, coord)
        db.session.commit()
        return s.campaign.id, s.city.id, s.quartier.id, [p.title for p in s.city_options], \
            receipts


def test_results_are_hidden_until_published_and_previewed_by_coordinators(app, client):
    with app.app_context():
        s, _ = closed_vote()
        make_user("coord2@example.org", roles=("coordinator",))
        counting.count_campaign(s.campaign, None)
        db.session.commit()
        cid, title = s.campaign.id, s.city_options[0].title
    html = client.get(f"{BASE}/{cid}/resultats").get_data(as_text=True)
    assert "not published yet" in html or "pas encore publiés" in html
    assert title not in html
    assert client.get(f"{BASE}/{cid}/bulletins/1").status_code == 200
    _login(client, "coord2@example.org")
    html = client.get(f"{BASE}/{cid}/resultats").get_data(as_text=True)
    assert title in html and "<svg" in html
    resp = post_form(client, f"{BASE}/{cid}/resultats/publier", {},
                     token_page=f"{BASE}/{cid}/resultats")
    assert resp.status_code == 302
    client.post("/compte/deconnexion", data={"csrf_token": csrf_from(
        client.get("/").get_data(as_text=True))})
    html = client.get(f"{BASE}/{cid}/resultats").get_data(as_text=True)
    assert title in html and "bar-measured" in html and "style=" not in html


def test_recount_and_publish_are_for_coordinators(app, client):
    cid, *_ = _published(app)
    make = post_form(client, f"{BASE}/{cid}/resultats/recompter", {},
                     token_page=f"{BASE}/{cid}/resultats")
    assert make.status_code == 302 and "/compte/connexion" in make.location


def test_results_page_shows_winners_comparison_explanations_and_chain_head(app, client):
    cid, city_id, _q, titles, _r = _published(app)
    html = client.get(f"{BASE}/{cid}/resultats").get_data(as_text=True)
    with app.app_context():
        run = counting.published_run(db.session.get(counting.Envelope, city_id))
        head = run.chain_head
    assert head and head in html
    for t in titles:
        assert t in html
    # did_not_fit, translated, with its numbers (1 000 € left).
    assert "1\u202f000,00\xa0€" in html
    assert "Méthode des parts égales" in html or "Method of Equal Shares" in html
    assert "role=\"img\"" in html


def test_turnout_per_quartier_and_small_cells_suppressed(app, client):
    genders = ["female"] * 6 + ["male"]
    cid, *_ = _published(app, genders=genders)
    with app.app_context():
        from civic.budgeting.models import Campaign
        from civic.voting.results import turnout

        t = turnout(db.session.get(Campaign, cid))
    assert t.voters == len(CITY_BALLOTS)
    name, n, population, share = next(q for q in t.quartiers if q[1])
    assert n == len(CITY_BALLOTS) and population == 6000
    assert share == round(100 * len(CITY_BALLOTS) / 6000, 1)
    # 1 man: hidden; then the women too (6 - total would give the man away).
    assert t.by_gender["male"].suppressed and t.by_gender["female"].suppressed
    assert t.by_gender["total"].value == 7
    # Everyone was born in 1980: one band of 7, shown; the others are 0.
    assert sum(c.value or 0 for k, c in t.by_age.items() if k != "total") == 7


def test_tampering_with_a_published_ballot_shows_a_warning(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "CIVIC_CHAIN_CHECK_SECONDS", 0)  # re-check every view
    cid, city_id, *_ = _published(app)
    html = client.get(f"{BASE}/{cid}/resultats").get_data(as_text=True)
    assert "has changed since publication" not in html and "a changé depuis" not in html
    with app.app_context():
        lookup = db.session.scalars(select(Ballot.lookup).where(
            Ballot.envelope_id == city_id).limit(1)).first()
        db.session.execute(update(Ballot).where(Ballot.lookup == lookup).values(choices="1,2,3"))
        db.session.commit()
    # Tampering happens outside the app, which never empties the visitors' page cache for it
    # (nor for any commit touching only ballots): the warning shows at the next render, at
    # most the cache's TTL later.
    from civic.core.cache import page_cache

    page_cache(app).bump()
    html = client.get(f"{BASE}/{cid}/resultats").get_data(as_text=True)
    assert "has changed since publication" in html or "a changé depuis" in html


def test_receipt_check_found_not_found_and_malformed(app, client):
    cid, _c, _q, titles, receipts = _published(app)
    url = f"{BASE}/{cid}/verifier-mon-bulletin"
    resp = post_form(client, url, {"receipt": receipts[2].lower().replace("-", " ")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and titles[0] in html and titles[1] in html
    assert titles[2] not in html.split("</h1>")[1].split("novalidate")[0]
    resp = post_form(client, url, {"receipt": "0000-0000-0000-0000-0000-0000-00"})
    assert resp.status_code == 200
    assert "No ballot found" in resp.get_data(as_text=True) or \
        "Aucun bulletin trouvé" in resp.get_data(as_text=True)
    for bad in ("hello", "'; drop table ballot; --", "\u00e9" * 26, "x" * 500):
        resp = post_form(client, url, {"receipt": bad})
        assert resp.status_code == 422, bad


def test_receipt_check_is_throttled(app, client):
    cid, *_ = _published(app)
    url = f"{BASE}/{cid}/verifier-mon-bulletin"
    token = csrf_from(client.get(url).get_data(as_text=True))
    codes = [client.post(url, data={"csrf_token": token, "receipt": "nope"}).status_code
             for _ in range(25)]
    assert 429 in codes


def test_downloads_parse_back(app, client):
    cid, city_id, _q, titles, _r = _published(app)
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"{BASE}/{cid}/resultats/{city_id}.csv").get_data(as_text=True))))
    assert {r["title"] for r in rows} == set(titles)
    doc = json.loads(client.get(f"{BASE}/{cid}/resultats/{city_id}.json").get_data())
    assert doc["count"]["ballots"] == len(CITY_BALLOTS) and doc["chain_head"]
    funded = {r["project_id"] for r in rows if r["funded"] == "1"}
    assert funded == set(doc["count"]["winners"])
    text = client.get(f"{BASE}/{cid}/resultats/{city_id}.pb").get_data(as_text=True)
    instance, profile = parse_pabulib(text)
    assert len(profile.ballots) == len(CITY_BALLOTS)
    assert {p.id for p in instance.projects if p.get("selected") == "1"} == funded
    assert all(not b.extra for b in profile.ballots)  # no voter attribute


def test_open_data_bundle_holds_every_published_file_with_checksums(app, client):
    import hashlib
    import zipfile

    with app.app_context():
        s, _receipts = closed_vote()
        cid, city_id = s.campaign.id, s.city.id
        titles = [p.title for p in s.city_options]
        coord = make_user("coord2@example.org", roles=("coordinator",))
        counting.count_campaign(s.campaign, coord)
        db.session.commit()
    assert client.get(f"{BASE}/{cid}/donnees-ouvertes.zip").status_code == 404  # unpublished
    with app.app_context():
        from civic.accounts.models import User
        from civic.budgeting.models import Campaign

        counting.publish_results(db.session.get(Campaign, cid),
                                 db.session.execute(select(User).where(
                                     User.email == "coord2@example.org")).scalar_one())
        db.session.commit()
    first = client.get(f"{BASE}/{cid}/donnees-ouvertes.zip")
    assert first.status_code == 200 and first.mimetype == "application/zip"
    assert client.get(f"{BASE}/{cid}/donnees-ouvertes.zip").data == first.data  # same bytes
    archive = zipfile.ZipFile(io.BytesIO(first.data))
    files = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}
    stem = f"enveloppe-{city_id}"
    for name in ("resultats.csv", "resultats.json", "vote.pb", "bulletins.csv"):
        assert f"{stem}/{name}" in files
    for line in files["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(files[name]).hexdigest() == digest
    instance, profile = parse_pabulib(files[f"{stem}/vote.pb"].decode())
    assert len(profile.ballots) == len(CITY_BALLOTS)
    rows = list(csv.DictReader(io.StringIO(files[f"{stem}/bulletins.csv"].decode())))
    doc = json.loads(files[f"{stem}/resultats.json"])
    assert len(rows) == len(CITY_BALLOTS) and rows[-1]["chain_link"] == doc["chain_head"]
    assert {r["title"] for r in csv.DictReader(io.StringIO(
        files[f"{stem}/resultats.csv"].decode()))} == set(titles)


def test_ballot_list_is_chained_and_withheld_under_five(app, client):
    cid, city_id, quartier_id, _t, _r = _published(app)
    html = client.get(f"{BASE}/{cid}/bulletins/{city_id}").get_data(as_text=True)
    with app.app_context():
        entries = db.session.execute(select(Ballot.lookup).where(
            Ballot.envelope_id == city_id).order_by(Ballot.lookup)).scalars().all()
    positions = [html.index(lookup) for lookup in entries]
    assert positions == sorted(positions)
    html = client.get(f"{BASE}/{cid}/bulletins/{quartier_id}").get_data(as_text=True)
    assert "withheld" in html or "pas publiée" in html
    assert client.get(f"{BASE}/{cid}/resultats/{quartier_id}.pb").status_code == 404
    assert client.get(f"{BASE}/{cid}/bulletins/999999").status_code == 404
    assert client.get(f"{BASE}/{cid}/bulletins/{city_id}?page=abc").status_code == 200


def test_pages_past_the_end_and_unknown_envelopes_are_404(app, client):
    cid, city_id, _q, _t, _r = _published(app)
    assert client.get(f"{BASE}/{cid}/bulletins/{city_id}?page=2").status_code == 404
    assert client.get(f"{BASE}/{cid}/resultats/999999.csv").status_code == 404
    assert client.get(f"{BASE}/999999/resultats").status_code == 404


def test_coordinator_recount_adds_a_run_with_the_same_output(app, client):
    with app.app_context():
        s, _ = closed_vote()
        make_user("coord2@example.org", roles=("coordinator",))
        counting.count_campaign(s.campaign, None)
        db.session.commit()
        cid = s.campaign.id
        first = counting.CountRun.query.all()
        before = {r.output_digest for r in first}
    _login(client, "coord2@example.org")
    resp = post_form(client, f"{BASE}/{cid}/resultats/recompter", {},
                     token_page=f"{BASE}/{cid}/resultats")
    assert resp.status_code == 302
    with app.app_context():
        runs = counting.CountRun.query.all()
        assert len(runs) == 2 * len(first)
        assert {r.output_digest for r in runs} == before
    html = client.get(f"{BASE}/{cid}/resultats").get_data(as_text=True)
    assert html.count("<code>") >= 2


def test_cumulative_results_show_points(app, client):
    from civic.budgeting.states import Phase
    from civic.voting import services as vote
    from tests.budgeting.factories import set_phase

    with app.app_context():
        s, _ = closed_vote(ballots=[], ballot_format="cumulative", points_total=10,
                           min_projects=1, close=False)
        a, b, _c = s.city_options
        for i in range(5):
            vote.cast_ballot(make_user(f"p{i}@example.org"), s.city, {a.id: 7, b.id: 3})
        db.session.commit()
        set_phase(s.campaign, Phase.RESULTS)
        coord = make_user("coord2@example.org", roles=("coordinator",))
        counting.count_campaign(s.campaign, coord)
        counting.publish_results(s.campaign, coord)
        db.session.commit()
        cid = s.campaign.id
    html = client.get(f"{BASE}/{cid}/resultats").get_data(as_text=True)
    assert ">35<" in html and ">15<" in html  # points, in the table


def test_the_chain_check_is_cached_between_views(app, client, monkeypatch):
    from civic.voting import results as res

    monkeypatch.setattr(res, "_CHECKED", {})
    cid, *_ = _published(app)
    calls = []
    real = res.chain_head_now
    monkeypatch.setattr(res, "chain_head_now", lambda e: calls.append(e.id) or real(e))
    for _ in range(3):
        client.get(f"{BASE}/{cid}/resultats")
    assert len(calls) == len(set(calls))  # once per envelope, not once per view


def test_visitors_pages_of_a_vote_set_no_cookie_so_they_can_be_cached(app, client):
    cid, city_id, _q, _titles, _r = _published(app)
    with app.app_context():
        from civic.budgeting.models import Proposal

        pid = db.session.execute(select(Proposal.id)).scalars().first()
    for url in (f"{BASE}/{cid}/resultats", f"/budget-participatif/propositions/{pid}"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "Set-Cookie" not in answer.headers, url
