"""Every domain's tables, imported in one place so SQLModel.metadata knows them all
(Alembic's autogenerate and the schema test read it)."""

from sqlmodel import SQLModel

from consult.responses import models as responses_models  # noqa: F401
from consult.strategy import models as strategy_models  # noqa: F401
from consult.surveys import models as surveys_models  # noqa: F401

metadata = SQLModel.metadata
