"""Passwords and tickets."""

from __future__ import annotations

import base64
import hashlib

from reconciler.qbwc.credentials import (
    hash_password,
    new_password,
    new_ticket,
    ticket_hash,
    ticket_prefix,
    verify_password,
)


def test_password_hash_verifies_and_never_holds_the_password():
    password = new_password()
    stored = hash_password(password)
    assert password not in stored and stored.startswith("sha256$")
    assert verify_password(password, stored)
    assert not verify_password(password + "x", stored)
    assert hash_password(password) != stored  # salted


def test_hashes_written_with_scrypt_still_verify():
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(b"old-password", salt=salt, n=2**11, r=8, p=1, dklen=32)
    stored = f"scrypt$2048$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    assert verify_password("old-password", stored)
    assert not verify_password("old-passwore", stored)


def test_verification_fails_cleanly_on_anything_else():
    assert not verify_password("x", None)
    assert not verify_password("x", "md5$abc")
    assert not verify_password("x", "scrypt$not$numbers$at$all$")
    assert not verify_password("x", "sha256$only-one-part")
    assert not verify_password("x", "sha256$!!$!!")
    assert not verify_password("x", "garbage")


def test_passwords_and_tickets_are_random_and_strong():
    assert len({new_password() for _ in range(50)}) == 50
    assert len(new_password()) >= 24
    ticket = new_ticket()
    assert len(ticket) >= 43
    assert ticket_hash(ticket) != ticket and len(ticket_hash(ticket)) == 64
    assert ticket.startswith(ticket_prefix(ticket)) and len(ticket_prefix(ticket)) == 8
