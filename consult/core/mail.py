"""Sending e-mail: the SMTP settings from the environment and one connection per batch. Used by
the remiss invitations and by the invitation codes of surveys for invited people."""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """CONSULT_SMTP_HOST, _PORT (25), _FROM, and optionally _USER, _PASSWORD, _STARTTLS=1.
        None when no host or sender is configured: the admin then downloads the links instead."""
        env = os.environ if environ is None else environ
        host, sender = env.get("CONSULT_SMTP_HOST", "").strip(), env.get("CONSULT_SMTP_FROM", "").strip()
        if not host or not sender:
            return None
        return cls(
            host=host,
            port=int(env.get("CONSULT_SMTP_PORT") or 25),
            sender=sender,
            user=env.get("CONSULT_SMTP_USER") or None,
            password=env.get("CONSULT_SMTP_PASSWORD") or None,
            starttls=env.get("CONSULT_SMTP_STARTTLS", "").lower() in {"1", "true", "yes"},
        )


def mail_configured() -> bool:
    """Whether mail can be sent (as from_env would find), cheaply enough for every survey page view."""
    return bool(os.environ.get("CONSULT_SMTP_HOST")) and bool(os.environ.get("CONSULT_SMTP_FROM"))


def connect_smtp(settings: SmtpSettings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=30)
    if settings.starttls:
        smtp.starttls(context=ssl.create_default_context())
    if settings.user and settings.password:
        smtp.login(settings.user, settings.password)
    return smtp
