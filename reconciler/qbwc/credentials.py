"""Web Connector passwords and session tickets.

The password is generated here (the user pastes it into the Web Connector
once) and only its scrypt hash is stored. Tickets are random; the store keeps
their SHA-256, logs show a short prefix. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost. The passwords are generated (144 random bits), never chosen by
# people: no amount of guessing finds one, so the cost only has to make a
# stolen hash useless, not slow a dictionary down. 2 MiB and a few
# milliseconds per sign-in: hashlib.scrypt holds the GIL, and fifty Web
# Connectors signing in at once must not stall the server's other calls.
_N, _R, _P = 2**11, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_SCHEME = "scrypt"

TICKET_PREFIX_LENGTH = 8


def new_password() -> str:
    """A strong random password (24 URL-safe characters, 144 bits)."""
    return secrets.token_urlsafe(18)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=0, dklen=_KEY_BYTES
    )


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$key`` with a random salt (base64 parts)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, _N, _R, _P)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


# Verified against when the user name is unknown, so that a wrong name costs
# as much time as a wrong password and the answer reveals neither.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(18))


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (None: verify a dummy and fail)."""
    encoded = stored or _DUMMY_HASH
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(key)
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected) and stored is not None


def new_ticket() -> str:
    """A random session ticket (256 bits)."""
    return secrets.token_urlsafe(32)


def ticket_hash(ticket: str) -> str:
    """What the store keeps of a ticket."""
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


def ticket_prefix(ticket: str) -> str:
    """The part of a ticket that logs may show."""
    return ticket[:TICKET_PREFIX_LENGTH]
