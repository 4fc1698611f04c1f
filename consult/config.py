"""Settings read from the environment, with defaults that work on a fresh checkout."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    var_dir: Path
    https: bool
    default_language: str = "sv"
    languages: tuple[str, ...] = ("sv", "en")
    resume_days: int = 7
    max_body_bytes: int = 1_000_000
    # Where residents report accessibility problems or ask for another way to answer (about page).
    contact_email: str = ""
    contact_phone: str = ""


def _var_dir() -> Path:
    path = Path(os.environ.get("CONSULT_VAR_DIR", PROJECT_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(var_dir: Path) -> str:
    """Use CONSULT_SECRET_KEY, or a key generated once into var/ so restarts keep sessions valid."""
    from_env = os.environ.get("CONSULT_SECRET_KEY")
    if from_env:
        return from_env
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        # Write atomically so two worker processes starting together agree on one key.
        tmp = key_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return key_file.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    var_dir = _var_dir()
    database_url = os.environ.get("CONSULT_DATABASE_URL") or f"sqlite:///{var_dir / 'consult.db'}"
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we install; SQLAlchemy would otherwise look for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return Settings(
        database_url=database_url,
        secret_key=_secret_key(var_dir),
        var_dir=var_dir,
        https=os.environ.get("CONSULT_HTTPS", "").lower() in {"1", "true", "yes"},
        contact_email=os.environ.get("CONSULT_CONTACT_EMAIL", "").strip(),
        contact_phone=os.environ.get("CONSULT_CONTACT_PHONE", "").strip(),
    )
