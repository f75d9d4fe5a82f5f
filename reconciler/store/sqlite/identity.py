"""The installation's identity and the companies it serves, in SQLite."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from reconciler.store.concerns import CompanyStore, InstallationStore
from reconciler.store.records import AppIdentity, CompanyRecord
from reconciler.store.sqlite.database import SqliteConcern
from reconciler.store.tables import COMPANIES


def _guid() -> str:
    """A GUID as QuickBooks and the Web Connector write it: braces, upper case."""
    return "{" + str(uuid.uuid4()).upper() + "}"


class SqliteInstallation(SqliteConcern, InstallationStore):
    """The ``meta`` table: one value per key."""

    def _meta(self, key: str) -> str | None:
        row = self._db.row("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def app_identity(self) -> AppIdentity:
        with self._db.atomic():
            owner_id = self._meta("owner_id")
            app_id = self._meta("app_id")
            if owner_id is None or app_id is None:
                owner_id, app_id = _guid(), _guid()
                self._db.run(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('owner_id', ?), ('app_id', ?)",
                    (owner_id, app_id),
                )
        return AppIdentity(owner_id=owner_id, app_id=app_id)

    def clock_shift(self) -> dt.timedelta | None:
        seconds = self._meta("clock_shift_seconds")
        return None if seconds is None else dt.timedelta(seconds=float(seconds))

    def set_clock_shift(self, shift: dt.timedelta) -> None:
        with self._db.atomic():
            self._db.run(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('clock_shift_seconds', ?)",
                (repr(shift.total_seconds()),),
            )


class SqliteCompanies(SqliteConcern, CompanyStore):
    """The ``companies`` table."""

    def _find(self, column: str, value: Any) -> CompanyRecord | None:
        # ``column`` is one of this class's constants, never input.
        row = self._db.row(f"SELECT * FROM companies WHERE {column} = ?", (value,))  # noqa: S608
        return None if row is None else COMPANIES.record(row)

    def register(self, name: str, *, username: str, company_file: str) -> CompanyRecord:
        now = dt.datetime.now(dt.UTC)
        with self._db.atomic():
            found = self._db.row("SELECT id FROM companies WHERE name = ?", (name,))
            if found is None:
                company_id = self._db.insert(
                    COMPANIES,
                    name=name,
                    username=username,
                    file_id=_guid(),
                    company_file=company_file,
                    created_at=now,
                    updated_at=now,
                )
            else:
                company_id = int(found["id"])
                self._db.update(
                    COMPANIES,
                    company_id,
                    username=username,
                    company_file=company_file,
                    updated_at=now,
                )
            return self.get(company_id)

    def get(self, company_id: int) -> CompanyRecord:
        company = self._find("id", company_id)
        if company is None:
            raise KeyError(f"no company {company_id}")
        return company

    def by_name(self, name: str) -> CompanyRecord | None:
        return self._find("name", name)

    def by_username(self, username: str) -> CompanyRecord | None:
        return self._find("username", username)

    def all(self) -> list[CompanyRecord]:
        return COMPANIES.records(self._db.rows("SELECT * FROM companies ORDER BY id"))

    def set_password_hash(self, company_id: int, password_hash: str) -> None:
        with self._db.atomic():
            self._db.update(
                COMPANIES,
                company_id,
                password_hash=password_hash,
                updated_at=dt.datetime.now(dt.UTC),
            )

    def record_contact(self, company_id: int, at: dt.datetime) -> None:
        with self._db.atomic():
            self._db.update(COMPANIES, company_id, last_contact=at)

    def set_profile(self, company_id: int, profile: dict[str, Any]) -> None:
        with self._db.atomic():
            self._db.update(
                COMPANIES, company_id, profile=profile, updated_at=dt.datetime.now(dt.UTC)
            )
