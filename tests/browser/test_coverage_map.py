"""The network's coverage map in Chromium: quartiers with outlines are drawn, each titled
with its number of needs nobody covers, and the page passes axe. (The demo's quartiers have
no outline: this test gives them squares, then takes them back.)"""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect
from sqlalchemy import select

from civic.extensions import db
from civic.territory.models import Quartier
from tests.browser.test_journeys import _assert_accessible, _log_in


def _square(n: int) -> str:
    lon, lat = 3.39 + (n % 4) * 0.02, 50.33 + (n // 4) * 0.02
    ring = [[lon, lat], [lon + 0.018, lat], [lon + 0.018, lat + 0.018], [lon, lat + 0.018],
            [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def test_the_coverage_map_is_drawn_titled_and_accessible(page: Page, live_app):
    with live_app.app_context():
        quartiers = db.session.execute(select(Quartier).order_by(Quartier.id)).scalars().all()
        before = {q.id: q.outline_geojson for q in quartiers}
        for n, q in enumerate(quartiers):
            q.outline_geojson = _square(n)
        db.session.commit()
    try:
        _log_in(page, "coordination@demo.civic.example")
        page.goto("/bienveilleurs/coordination/couverture")
        drawing = page.get_by_role("img", name="Besoins que personne ne couvre, par quartier")
        expect(drawing).to_be_visible()
        expect(drawing.locator("path")).to_have_count(len(quartiers))
        expect(drawing.locator("path title").first).to_contain_text(
            "que personne ne couvre")
        _assert_accessible(page, "coverage map")
    finally:
        with live_app.app_context():
            for q in db.session.execute(select(Quartier)).scalars():
                q.outline_geojson = before.get(q.id)
            db.session.commit()
