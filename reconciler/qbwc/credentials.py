"""Web Connector passwords and session tickets.

The password is generated here (the user pastes it into the Web Connector
once) and only a salted SHA-256 of it is stored. Tickets are random; the store
keeps their SHA-256, logs show a short prefix. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# The passwords are generated (144 random bits), never chosen by people: no
# amount of guessing finds one, with or without the hash. A slow hash (a KDF)
# only slows the guessing of weak secrets, and costs every sign-in: fifty Web
# Connectors signing in at once would queue behind fifty KDF runs. So one
# salted SHA-256, as NIST SP 800-63B allows for generated secrets of 112 bits
# or more, and as the API's tokens are kept.
_SCHEME = "sha256"
_SALT_BYTES = 16
# Hashes written before the switch (scrypt$N$r$p$salt$key) still verify.
_LEGACY_SCHEME = "scrypt"

TICKET_PREFIX_LENGTH = 8


def new_password() -> str:
    """A strong random password (24 URL-safe characters, 144 bits)."""
    return secrets.token_urlsafe(18)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _digest(password: str, salt: bytes) -> bytes:
    return hmac.new(salt, password.encode("utf-8"), hashlib.sha256).digest()


def hash_password(password: str) -> str:
    """``sha256$salt$digest`` with a random salt (base64 parts)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    return f"{_SCHEME}${_b64(salt)}${_b64(_digest(password, salt))}"


# Verified against when the user name is unknown, so that a wrong name costs
# as much time as a wrong password and the answer reveals neither.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(18))


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (None: verify a dummy and fail)."""
    encoded = stored or _DUMMY_HASH
    try:
        scheme, *parts = encoded.split("$")
        if scheme == _SCHEME:
            salt, key = parts
            actual = _digest(password, base64.b64decode(salt))
        elif scheme == _LEGACY_SCHEME:
            n, r, p, salt, key = parts
            actual = hashlib.scrypt(
                password.encode("utf-8"),
                salt=base64.b64decode(salt),
                n=int(n),
                r=int(r),
                p=int(p),
                maxmem=0,
                dklen=len(base64.b64decode(key)),
            )
        else:
            return False
        expected = base64.b64decode(key)
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
