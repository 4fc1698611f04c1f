"""Every domain's tables, imported in one place so SQLModel.metadata knows them all
(Alembic's autogenerate and the schema test read it)."""

from sqlmodel import SQLModel

from consult.domains import domain_modules

MODELS = domain_modules("models")
metadata = SQLModel.metadata
