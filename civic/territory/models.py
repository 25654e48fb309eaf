"""The territory: communes, their quartiers, city services and councils."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.extensions import db


class Commune(db.Model):
    """A commune; an agglomeration such as Porte du Hainaut has several."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    insee_code: Mapped[str | None] = mapped_column(String(5), unique=True)
    quartiers: Mapped[list[Quartier]] = relationship(
        back_populates="commune", order_by="Quartier.name"
    )


class Quartier(db.Model):
    """A neighbourhood; priority ones (QPV) are flagged."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    population: Mapped[int | None]
    is_priority: Mapped[bool] = mapped_column(default=False)
    # GeoJSON geometry (Polygon or MultiPolygon), validated on input.
    outline_geojson: Mapped[str | None] = mapped_column(Text)
    commune: Mapped[Commune] = relationship(back_populates="quartiers")

    __table_args__ = (UniqueConstraint("commune_id", "name"),)

    @property
    def label(self) -> str:
        """Name with its commune, as shown in lists."""
        return f"{self.name} ({self.commune.name})"


class CityService(db.Model):
    """A city service (voirie, espaces verts, éclairage…) that agents belong to."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))


class Council(db.Model):
    """A conseil citoyen, usually one per priority quartier (loi Lamy, 2014)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    quartier_id: Mapped[int | None] = mapped_column(ForeignKey("quartier.id"), index=True)
    # What the council is about, shown on its public page (optional).
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    quartier: Mapped[Quartier | None] = relationship()
