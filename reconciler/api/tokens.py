"""Bearer tokens: made here, shown once, kept only as a hash.

A token reads ``rct_<key id>_<secret>``: the key id (public, 12 hex digits)
finds the token's record and tells people which token it is in
``reconcile token list``; the secret (32 random bytes) makes it unguessable.
The store keeps the sha256 of the whole token, which is enough for a secret
of that strength (no slow hash needed), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

PREFIX = "rct_"
_SHAPE = re.compile(r"rct_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
# What a token's name may be: it appears in the audit log and in commands.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def new_token() -> tuple[str, str]:
    """A new random token and its key id."""
    key_id = secrets.token_hex(6)
    return f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}", key_id


def key_id_of(token: str) -> str | None:
    """The key id of something shaped like a token; None otherwise."""
    match = _SHAPE.fullmatch(token)
    return match.group(1) if match else None


def hash_token(token: str) -> str:
    """What the store keeps of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Whether ``token`` is the one whose hash was stored (constant time)."""
    return hmac.compare_digest(hash_token(token), stored_hash)
