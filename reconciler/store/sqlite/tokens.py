"""The API's bearer tokens, in SQLite."""

from __future__ import annotations

import datetime as dt

from reconciler.store.concerns import ApiTokenStore
from reconciler.store.records import ApiToken, TokenScope
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import API_TOKENS


class SqliteApiTokens(SqliteConcern, ApiTokenStore):
    """The ``api_tokens`` table (a name names one live token at a time)."""

    def add(
        self,
        company_id: int,
        *,
        name: str,
        scope: TokenScope,
        key_id: str,
        token_hash: str,
        at: dt.datetime,
    ) -> ApiToken:
        with self._db.atomic():
            token_id = self._db.insert(
                API_TOKENS,
                company_id=company_id,
                name=name,
                scope=scope,
                key_id=key_id,
                token_hash=token_hash,
                created_at=at,
            )
            row = self._db.row("SELECT * FROM api_tokens WHERE id = ?", (token_id,))
            return API_TOKENS.record(row)

    def by_key_id(self, key_id: str) -> ApiToken | None:
        row = self._db.row("SELECT * FROM api_tokens WHERE key_id = ?", (key_id,))
        return None if row is None else API_TOKENS.record(row)

    def by_name(self, name: str) -> ApiToken | None:
        row = self._db.row(
            "SELECT * FROM api_tokens WHERE name = ? AND revoked_at IS NULL", (name,)
        )
        return None if row is None else API_TOKENS.record(row)

    def all(self, *, include_revoked: bool = False) -> list[ApiToken]:
        rows = self._db.rows(
            "SELECT * FROM api_tokens WHERE ? OR revoked_at IS NULL ORDER BY id",
            (int(include_revoked),),
        )
        return API_TOKENS.records(rows)

    def revoke(self, name: str, at: dt.datetime) -> ApiToken | None:
        with self._db.atomic():
            token = self.by_name(name)
            if token is None:
                return None
            self._db.update(API_TOKENS, token.id, revoked_at=at)
            return self.by_key_id(token.key_id)

    def touch(self, token_id: int, at: dt.datetime) -> None:
        with self._db.atomic():
            self._db.update(API_TOKENS, token_id, last_used_at=at)
