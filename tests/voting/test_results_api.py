"""The open-data API of the vote results: published results and ballots, OpenAPI-conformant."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from civic import create_app
from civic.extensions import db
from civic.voting import count as counting
from civic.voting.ballots import chain
from tests.conftest import make_config, make_user
from tests.voting.count_helpers import CITY_BALLOTS, closed_vote


@pytest.fixture
def published(app):
    with app.app_context():
        s, receipts = closed_vote()
        coord = make_user("coord2@example.org", roles=("coordinator",))
        counting.count_campaign(s.campaign, coord)
        counting.publish_results(s.campaign, coord)
        db.session.commit()
        return s.campaign.id, s.city.id, s.quartier.id


def test_results_before_and_after_publication(app, client):
    with app.app_context():
        s, _ = closed_vote()
        counting.count_campaign(s.campaign, None)
        db.session.commit()
        cid = s.campaign.id
    data = client.get(f"/api/v1/campaigns/{cid}/results").get_json()
    assert data == {"campaign_id": cid, "published": False, "envelopes": []}
    assert client.get(f"/api/v1/campaigns/{cid}/ballots").status_code == 404
    assert client.get("/api/v1/campaigns/999999/results").status_code == 404


def test_results_give_rule_winners_and_explanations(client, published):
    cid, city_id, _q = published
    data = client.get(f"/api/v1/campaigns/{cid}/results").get_json()
    city = next(e for e in data["envelopes"] if e["envelope_id"] == city_id)
    assert city["rule"] == "greedy" and city["ballots"] == len(CITY_BALLOTS)
    assert len(city["winners"]) == 2 and city["chain_head"]
    reasons = {e["reason"] for e in city["explanations"]}
    assert {"funded", "did_not_fit"} <= reasons
    assert {c["rule"] for c in city["comparison"]} == {"greedy", "mes"}


def test_ballots_are_paginated_and_chained(client, published):
    cid, city_id, quartier_id = published
    first = client.get(f"/api/v1/campaigns/{cid}/ballots?limit=3").get_json()
    rest = client.get(f"/api/v1/campaigns/{cid}/ballots?limit=10&offset=3").get_json()
    assert first["total"] == len(CITY_BALLOTS) and len(first["items"]) == 3
    items = first["items"] + rest["items"]
    assert [i["position"] for i in items] == list(range(1, len(CITY_BALLOTS) + 1))
    links = chain([(i["lookup"], i["choices"]) for i in items])
    assert links == [i["chain_link"] for i in items] and links[-1] == first["chain_head"]
    small = client.get(f"/api/v1/campaigns/{cid}/ballots?envelope={quartier_id}").get_json()
    assert small["withheld"] is True and small["items"] == []
    for qs in ("envelope=abc", "limit=0", "offset=-1"):
        assert client.get(f"/api/v1/campaigns/{cid}/ballots?{qs}").status_code == 400
    assert client.get(f"/api/v1/campaigns/{cid}/ballots?envelope=999999").status_code == 404


schemathesis = pytest.importorskip("schemathesis")
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app(make_config())) \
    .include(path_regex=r"/campaigns/\{campaign_id\}/(results|ballots)")


@pytest.mark.fuzz
@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_results_api_conforms_to_its_openapi_document(case, published):
    case.call_and_validate()


def test_published_responses_conform_to_their_schema(published):
    cid, city_id, quartier_id = published
    for path, query in (("/campaigns/{campaign_id}/results", {}),
                        ("/campaigns/{campaign_id}/ballots", {"limit": 2, "offset": 1}),
                        ("/campaigns/{campaign_id}/ballots", {"envelope": quartier_id})):
        case = schema[path]["GET"].Case(path_parameters={"campaign_id": cid}, query=query)
        response = case.call()
        assert response.status_code == 200
        case.validate_response(response)
