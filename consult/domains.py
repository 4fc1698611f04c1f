"""The domain packages, in one list: their tables, routers and commands are found here, so a
new domain plugs in by adding its name rather than by editing the app, the schema and the CLI."""

from __future__ import annotations

import importlib
from types import ModuleType

DOMAINS = (
    "accounts",
    "strategy",
    "surveys",
    "responses",
    "home",
    "interviews",
    "imports",
    "campaigns",
    "remiss",
    "themes",
    "workspace",
    "reports",
    "authoring",
    "privacy",
    "ops",
    "organisation",
)


def optional_module(name: str) -> ModuleType | None:
    """Import consult.<name> if that module exists; a missing module is fine, a broken one is not."""
    full = f"consult.{name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name and full.startswith(exc.name):
            return None
        raise


def domain_modules(kind: str) -> list[ModuleType]:
    """Each domain's `kind` module (models, routes, api, cli), in the order of DOMAINS."""
    return [m for d in DOMAINS if (m := optional_module(f"{d}.{kind}")) is not None]
