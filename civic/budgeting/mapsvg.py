"""A map without tiles: the quartiers' outlines drawn as SVG by the server.

It needs no tile server and no network (CSP allows none anyway), so it works offline; with
JavaScript a click on it fills the latitude and longitude fields, and without JavaScript
(or without outlines) the address and the two number fields are enough.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

WIDTH = 600.0  # SVG user units; the height follows the area's shape


@dataclass(frozen=True)
class Projection:
    """Equirectangular projection of a small area (longitudes scaled by cos(latitude))."""

    west: float
    north: float
    scale: float  # SVG units per degree of latitude
    kx: float  # cos(mid latitude)

    def to_svg(self, lon: float, lat: float) -> tuple[float, float]:
        """Longitude/latitude → SVG x/y."""
        return ((lon - self.west) * self.kx * self.scale, (self.north - lat) * self.scale)

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        """SVG x/y → longitude/latitude (what the browser script does on a click)."""
        return (self.west + x / (self.kx * self.scale), self.north - y / self.scale)


@dataclass(frozen=True)
class OutlineMap:
    """What the template draws."""

    width: float
    height: float
    paths: list[tuple[str, str]]  # (SVG path, quartier name)
    projection: Projection
    marker: tuple[float, float] | None
    ids: tuple[Any, ...] = ()  # the `id` of each drawn quartier, in the order of `paths`


def _rings(geojson: str) -> list[list[list[float]]]:
    data = json.loads(geojson)
    if data.get("type") == "Polygon":
        return [ring for ring in data["coordinates"]]
    return [ring for poly in data.get("coordinates", []) for ring in poly]


def outline_map(quartiers: list[Any], point: tuple[float, float] | None = None
                ) -> OutlineMap | None:
    """The SVG map of these quartiers (None when none has an outline)."""
    drawn = [q for q in quartiers if q.outline_geojson]
    shapes = [(q.name, _rings(q.outline_geojson)) for q in drawn]
    coords = [(c[0], c[1]) for _n, rings in shapes for ring in rings for c in ring]
    if not coords:
        return None
    west, east = min(c[0] for c in coords), max(c[0] for c in coords)
    south, north = min(c[1] for c in coords), max(c[1] for c in coords)
    margin = max(east - west, north - south) * 0.05 or 0.001
    west, east, south, north = west - margin, east + margin, south - margin, north + margin
    kx = math.cos(math.radians((north + south) / 2))
    scale = WIDTH / ((east - west) * kx)
    projection = Projection(west, north, scale, kx)
    paths = []
    for name, rings in shapes:
        parts = []
        for ring in rings:
            pts = [projection.to_svg(c[0], c[1]) for c in ring]
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + " Z")
        paths.append((" ".join(parts), name))
    marker = None
    if point is not None and None not in point:
        marker = projection.to_svg(point[1], point[0])
    return OutlineMap(WIDTH, round((north - south) * scale, 1), paths, projection, marker,
                      tuple(getattr(q, "id", None) for q in drawn))
