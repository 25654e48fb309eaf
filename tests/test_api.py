"""The open-data API: JSON, pagination, ETag, CORS, OpenAPI conformance."""

from __future__ import annotations

import pytest

from tests.conftest import make_territory


@pytest.fixture
def territory(app):
    with app.app_context():
        make_territory()


def test_quartiers_list_and_filters(client, territory):
    data = client.get("/api/v1/quartiers").get_json()
    assert data["total"] == 2 and {q["code"] for q in data["items"]} == {"DEN-01", "DEN-03"}
    data = client.get("/api/v1/quartiers?priority=true").get_json()
    assert [q["code"] for q in data["items"]] == ["DEN-01"]
    assert client.get("/api/v1/quartiers?limit=1&offset=1").get_json()["items"][0]["code"] == "DEN-03"


def test_bad_parameters_are_400_json(client, territory):
    for qs in ("limit=0", "limit=abc", "offset=-1", "priority=maybe", "limit=100000"):
        resp = client.get(f"/api/v1/quartiers?{qs}")
        assert resp.status_code == 400 and resp.get_json()["status"] == 400, qs


def test_unknown_quartier_is_404_json(client, territory):
    resp = client.get("/api/v1/quartiers/NOPE")
    assert resp.status_code == 404 and resp.is_json
    assert client.get("/api/v1/quartiers/den-01").get_json()["name"] == "Faubourg Duchâteau"


def test_etag_and_cors(client, territory):
    resp = client.get("/api/v1/communes")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    etag = resp.headers["ETag"]
    assert client.get("/api/v1/communes", headers={"If-None-Match": etag}).status_code == 304


def test_every_get_declares_etag_if_none_match_and_304(client, territory):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        op = item["get"]
        assert {"$ref": "#/components/parameters/IfNoneMatch"} in op["parameters"], path
        assert op["responses"]["200"]["headers"]["ETag"], path
        assert "304" in op["responses"], path
    assert doc["components"]["parameters"]["IfNoneMatch"]["in"] == "header"
    etag = client.get("/api/v1/quartiers/DEN-01").headers["ETag"]
    assert client.get("/api/v1/quartiers/DEN-01",
                      headers={"If-None-Match": etag}).status_code == 304


def test_conditions_never_turn_an_error_into_a_304(client, territory):
    for url in ("/api/v1/quartiers/NOPE", "/api/v1/quartiers?limit=0"):
        resp = client.get(url, headers={"If-None-Match": "*"})
        assert resp.status_code in (400, 404) and resp.is_json, url


def test_openapi_document_is_3_1_and_lists_the_paths(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"/quartiers", "/quartiers/{code}", "/communes"} <= set(doc["paths"])


from hypothesis import HealthCheck, settings  # noqa: E402

from civic import create_app  # noqa: E402
from tests.conftest import make_config  # noqa: E402

schemathesis = pytest.importorskip("schemathesis")
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app(make_config()))


@pytest.mark.fuzz
@schema.parametrize()
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_openapi_document(case, territory):
    case.call_and_validate()
