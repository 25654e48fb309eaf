"""The tile-less map: projection round trip, outlines drawn, and the form without outlines."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from civic.budgeting.mapsvg import outline_map


def _q(name, lon, lat):
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01],
            [lon, lat]]
    return SimpleNamespace(name=name, outline_geojson=json.dumps(
        {"type": "Polygon", "coordinates": [ring]}))


def test_projection_round_trip_and_marker_inside_the_drawing():
    m = outline_map([_q("A", 3.39, 50.33), _q("B", 3.42, 50.35)], point=(50.335, 3.395))
    assert m is not None and len(m.paths) == 2 and m.width == 600
    x, y = m.marker
    assert 0 <= x <= m.width and 0 <= y <= m.height
    lon, lat = m.projection.to_lonlat(x, y)
    assert lon == pytest.approx(3.395) and lat == pytest.approx(50.335)
    assert m.paths[0][0].startswith("M") and m.paths[0][1] == "A"


def test_no_outline_no_map():
    assert outline_map([SimpleNamespace(name="X", outline_geojson=None)]) is None
