"""Interviews keep no tables of their own: entries are responses with channel, event and
interviewer. The review workflow's tables live in consult/responses/review_models.py and are
imported here so domain discovery adds them to the metadata."""

from __future__ import annotations

from consult.responses.review_models import ResponseEdit, ResponseFlag, ReviewEvent

__all__ = ["ResponseEdit", "ResponseFlag", "ReviewEvent"]
