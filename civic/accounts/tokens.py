"""Signed, expiring links for e-mail confirmation and password reset.

No table: the token carries the user id, the purpose and a timestamp, signed with the secret
key; a reset token also binds the current password hash, so it works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str, binding: str) -> str:
    return _b64(hmac.new(secret.encode(), f"{payload}|{binding}".encode(), hashlib.sha256).digest()[:24])


def make_token(secret: str, purpose: str, user_id: int, binding: str = "", now: float | None = None) -> str:
    payload = _b64(f"{purpose}:{user_id}:{int(now or time.time())}".encode())
    return f"{payload}.{_signature(secret, payload, binding)}"


def peek_user_id(token: str) -> int | None:
    """The unverified user id, to look up what the token must be bound to."""
    try:
        return int(_unb64(token.split(".", 1)[0]).decode().split(":")[1])
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


def read_token(secret: str, purpose: str, token: str, max_age_seconds: int, binding: str = "",
               now: float | None = None) -> int | None:
    """The user id, or None for a forged, expired, reused or wrong-purpose token."""
    try:
        payload, signature = token.split(".", 1)
        token_purpose, user_id_text, issued = _unb64(payload).decode().split(":")
        user_id = int(user_id_text)
    except (ValueError, UnicodeDecodeError):
        return None
    if token_purpose != purpose or (now or time.time()) - int(issued) > max_age_seconds:
        return None
    if not hmac.compare_digest(signature, _signature(secret, payload, binding)):
        return None
    return user_id


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
