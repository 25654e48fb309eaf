"""The results in Chromium: the coordinator previews and publishes (keyboard only), then
anyone reads the results, the chained ballot list and checks a receipt. axe on every page."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from civic.extensions import db
from tests.browser.test_journeys import _assert_accessible, _log_in
from tests.voting.test_budget_cli import SMALL

RECEIPT = "7K3M-Q9XD-AAAA-BBBB-CCCC-DDDD-EE"


def _imported_campaign(live_app, tmp_path) -> int:
    """A real Pabulib election imported and counted; one extra ballot with a receipt we
    know (as if a voter had kept theirs)."""
    from civic.voting.ballots import ballot_lookup, normalise_receipt
    from civic.voting.count import count_campaign
    from civic.voting.models import Ballot
    from civic.voting.pabulib_io import import_pabulib

    path = tmp_path / "browser.pb"
    path.write_text(SMALL.replace("num_votes;8", "num_votes;9") + "9;10,12;33\n",
                    encoding="utf-8")
    with live_app.app_context():
        done = import_pabulib(path)
        envelope = done.campaign.envelopes[0]
        first = db.session.execute(db.select(Ballot).where(
            Ballot.envelope_id == envelope.id).limit(1)).scalar_one()
        db.session.add(Ballot(lookup=ballot_lookup(normalise_receipt(RECEIPT)),
                              envelope_id=envelope.id, choices=first.choices, source="import"))
        db.session.delete(first)
        count_campaign(done.campaign, None)
        db.session.commit()
        return done.campaign.id


def test_publish_read_results_and_check_a_receipt(page: Page, browser: Browser, base_url,
                                                  live_app, tmp_path):
    cid = _imported_campaign(live_app, tmp_path)
    url = f"/budget-participatif/campagnes/{cid}/resultats"

    ctx = browser.new_context(base_url=base_url, locale="fr-FR")
    coord = ctx.new_page()
    _log_in(coord, "coordination@demo.civic.example")
    coord.goto(url)
    expect(coord.get_by_role("heading", name="Aperçu : non publié")).to_be_visible()
    _assert_accessible(coord, "results preview")
    coord.get_by_role("button", name="Publier le dernier dépouillement").focus()
    coord.keyboard.press("Enter")
    expect(coord.get_by_text("Les résultats sont publiés.")).to_be_visible()
    _assert_accessible(coord, "results published, coordinator")
    ctx.close()

    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Résultats")
    expect(page.get_by_role("img", name=re.compile("Voix par projet"))).to_be_visible()
    _assert_accessible(page, "results page")
    page.get_by_role("link", name="Les bulletins publiés").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bulletins publiés")
    _assert_accessible(page, "published ballots")

    page.goto(f"/budget-participatif/campagnes/{cid}/verifier-mon-bulletin")
    _assert_accessible(page, "check page")
    page.get_by_label("Code du reçu").fill("pas un reçu")
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_text("Ce n’est pas un code de reçu").first).to_be_visible()
    _assert_accessible(page, "check page with an error")
    page.get_by_label("Code du reçu").fill("0000 0000 0000 0000 0000 0000 00")
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_role("heading", name="Aucun bulletin trouvé pour ce reçu")).to_be_visible()
    page.get_by_label("Code du reçu").fill(RECEIPT.lower())
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_role("heading", name="Votre bulletin figure dans la liste publiée")
           ).to_be_visible()
    _assert_accessible(page, "check page, found")
