"""An uploaded file between its preview and the user's decision."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from consult.core.fields import json_field, timestamp


class BatchStatus(StrEnum):
    pending = "pending"  # previewed, waiting for confirm or cancel
    imported = "imported"  # confirmed; the rows are gone from the batch, the counts kept


class ImportBatch(SQLModel, table=True):
    """The validated rows of one upload, kept server-side so confirming needs no second upload.
    Only the uploading user may see, confirm or cancel it; it expires after a day."""

    __tablename__ = "import_batch"
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True)  # 128 random bits, base32
    survey_id: int = Field(foreign_key="survey.id", index=True)
    survey_revision: int  # the definition the rows were validated against
    owner_id: int = Field(foreign_key="staff_user.id", index=True)
    filename: str = Field(default="", max_length=255)
    status: str = Field(default=BatchStatus.pending.value, max_length=12)
    created_at: datetime | None = timestamp(nullable=False, default_now=True)
    expires_at: datetime | None = timestamp(nullable=False, index=True)
    total_rows: int = 0
    # Plain JSON text rather than a JSON column: written and read whole, and the exact float
    # and list shapes must come back as validated (the content hash of each response depends on them).
    rows_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    problems_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    # Counts shown on the preview and, after confirming, the outcome: created, duplicate, conflict.
    summary: dict = json_field(dict, nullable=False)
