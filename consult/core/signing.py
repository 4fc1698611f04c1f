"""Signed values (itsdangerous) with each salt's signer made once.

itsdangerous builds a new Signer, and derives its key again, on every dumps and loads. A signer
holds nothing but its derived key and settings, so one per salt serves every request. Every
survey page view signs or checks at least one value (the CSRF cookie, the answered-surveys
cookie): making the signer was a third of that work.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from itsdangerous import URLSafeSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import Signer
from itsdangerous.url_safe import URLSafeSerializerMixin


class KeyKeepingSigner(Signer):
    """A Signer that derives each secret's key once; itsdangerous derives it again (a hash) for
    every signature it makes or checks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes | None, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        cache_key = secret_key.encode() if isinstance(secret_key, str) else secret_key
        derived = self._derived.get(cache_key)
        if derived is None:
            derived = self._derived[cache_key] = super().derive_key(secret_key)
        return derived


class ReusedSignerSerializer(URLSafeSerializer):
    """URLSafeSerializer whose signers are made once per salt and keep their derived keys; the
    same values, signatures and errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("signer", KeyKeepingSigner)
        super().__init__(*args, **kwargs)
        self._signer_for = lru_cache(maxsize=16)(super().make_signer)

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        return self._signer_for(salt)

    def dump_payload(self, obj: Any) -> bytes:
        # The values signed here are a few dozen bytes of JSON, which zlib cannot shrink, and
        # trying (as URLSafeSerializer does) took half of each signature's time. Values made
        # compressed before still load: the payload says whether it is.
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))


@lru_cache(maxsize=8)
def serializer(secret: str, *, salt: str) -> ReusedSignerSerializer:
    """The serializer for this secret and salt, made once."""
    return ReusedSignerSerializer(secret, salt=salt)


class RememberingSerializer(ReusedSignerSerializer):
    """Also remembers the values it has found genuine, so a respondent's cookie, sent with every
    page, is checked once per worker. Only successes are kept (a forged value is checked, and
    refused, every time), and a value is genuine for as long as the secret is unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._genuine = lru_cache(maxsize=8192)(super().loads)

    def loads(self, s: str | bytes, salt: str | bytes | None = None, **kwargs: Any) -> Any:
        if kwargs or not isinstance(s, str) or len(s) > 256:
            return super().loads(s, salt, **kwargs)
        return self._genuine(s, salt)


def install_for_csrf() -> None:
    """asgi-csrf signs and checks its cookie with the URLSafeSerializer it imported; give it the
    remembering one instead. Call before wrapping the app with asgi_csrf, whose token is a plain
    string (the cached value is immutable)."""
    import asgi_csrf

    asgi_csrf.URLSafeSerializer = RememberingSerializer  # type: ignore[misc]
