"""The organisation's own settings: one row, made the first time someone saves them."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from consult.core.fields import localized


class OrganisationSettings(SQLModel, table=True):
    __tablename__ = "organisation_settings"
    id: int | None = Field(default=None, primary_key=True)
    name: dict = localized()  # {"sv": "Region Jämtland Härjedalen", "en": ...}; shown in every page's header
    revision: int = 0  # bumped on every change, so each worker's cached name and pages renew
