"""The SQLite schema, as an ordered list of migrations.

``MIGRATIONS[n]`` takes a database from schema version ``n`` to ``n + 1``
(``PRAGMA user_version`` holds the version). Never edit a released migration:
append a new one.
"""

from __future__ import annotations

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE companies (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    username      TEXT NOT NULL UNIQUE,
    file_id       TEXT NOT NULL UNIQUE,
    company_file  TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    profile       TEXT NOT NULL DEFAULT '{}',
    last_contact  TEXT,
    -- Set when requests go out to QuickBooks, cleared by the next snapshot.
    snapshot_outdated INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE failed_sign_ins (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    client   TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX failed_sign_ins_by_user ON failed_sign_ins (username, at);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    company_id    INTEGER NOT NULL REFERENCES companies (id),
    ticket_hash   TEXT NOT NULL UNIQUE,
    ticket_prefix TEXT NOT NULL,
    boot_id       TEXT NOT NULL,
    client        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    closed_at     TEXT,
    state         TEXT NOT NULL,
    last_error    TEXT,
    applied       INTEGER NOT NULL DEFAULT 0,
    errors        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_company ON sessions (company_id, closed_at);

CREATE TABLE session_documents (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    document   BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE snapshots (
    id            INTEGER PRIMARY KEY,
    company_id    INTEGER NOT NULL REFERENCES companies (id),
    version       INTEGER NOT NULL,
    taken_at      TEXT NOT NULL,
    -- sha256 of the parsed state; computed when first needed (plan, apply).
    fingerprint   TEXT,
    qbxml_version TEXT NOT NULL,
    session_id    INTEGER REFERENCES sessions (id),
    UNIQUE (company_id, version)
);

CREATE TABLE snapshot_documents (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    document    BLOB NOT NULL,
    PRIMARY KEY (snapshot_id, seq)
);

CREATE TABLE plans (
    id             INTEGER PRIMARY KEY,
    company_id     INTEGER NOT NULL REFERENCES companies (id),
    key            TEXT NOT NULL,
    qb_fingerprint TEXT NOT NULL,
    billing_mode   TEXT NOT NULL,
    document       BLOB NOT NULL,
    applied_at     TEXT NOT NULL,
    status         TEXT NOT NULL
        CHECK (status IN ('queued', 'done', 'stale', 'superseded')),
    status_reason  TEXT,
    updated_at     TEXT NOT NULL
);
CREATE INDEX plans_by_company ON plans (company_id, id);

CREATE TABLE requests (
    id            INTEGER PRIMARY KEY,
    plan_id       INTEGER NOT NULL REFERENCES plans (id),
    company_id    INTEGER NOT NULL REFERENCES companies (id),
    sequence      INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    label         TEXT NOT NULL,
    qbxml         TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    external_guid TEXT,
    lookup        TEXT NOT NULL DEFAULT '{}',
    not_before    TEXT,
    state         TEXT NOT NULL
        CHECK (state IN ('held', 'queued', 'sent', 'done', 'failed', 'stale')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    session_id    INTEGER REFERENCES sessions (id),
    sent_at       TEXT,
    updated_at    TEXT NOT NULL,
    UNIQUE (plan_id, sequence)
);
CREATE INDEX requests_by_state ON requests (company_id, state, plan_id, sequence);

CREATE TABLE responses (
    id              INTEGER PRIMARY KEY,
    request_id      INTEGER NOT NULL REFERENCES requests (id),
    session_id      INTEGER REFERENCES sessions (id),
    received_at     TEXT NOT NULL,
    status_code     INTEGER NOT NULL,
    status_severity TEXT NOT NULL,
    status_message  TEXT NOT NULL,
    txn_id          TEXT,
    document        BLOB
);
CREATE INDEX responses_by_request ON responses (request_id, id);

CREATE TABLE status_errors (
    id          INTEGER PRIMARY KEY,
    company_id  INTEGER NOT NULL REFERENCES companies (id),
    request_id  INTEGER REFERENCES requests (id),
    plan_id     INTEGER REFERENCES plans (id),
    object      TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    what_to_do  TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    occurrences INTEGER NOT NULL DEFAULT 1,
    resolved_at TEXT
);
CREATE INDEX status_errors_open ON status_errors (company_id, resolved_at);

CREATE TABLE billing_locks (
    company_id INTEGER PRIMARY KEY REFERENCES companies (id),
    mode       TEXT NOT NULL,
    locked_at  TEXT NOT NULL,
    plan_id    INTEGER REFERENCES plans (id)
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    company_id INTEGER NOT NULL REFERENCES companies (id),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    plan_id    INTEGER REFERENCES plans (id),
    commit_sha TEXT,
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_by_company ON audit_log (company_id, id);
"""

# Bearer tokens of the JSON API (``reconcile token``): only a hash of each is
# kept; a name names one live token at a time, and may be reused once revoked.
_V2 = """
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    company_id   INTEGER NOT NULL REFERENCES companies (id),
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('plan', 'apply')),
    key_id       TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;
"""

# What the server reads of QuickBooks beyond the billing windows, and what it read:
# - created_invoices: every invoice reconciler created (its ExternalGUID and the
#   TxnID QuickBooks gave it), read by TxnID at every refresh wherever it moved;
#   deleted_at when QuickBooks no longer has it. Filled from the InvoiceAdd
#   responses recorded so far.
# - snapshots.coverage: the invoice dates and the customers whose invoices the
#   snapshot's refresh read (JSON; NULL for older snapshots: unknown).
# - failed sign-ins are throttled per client address.
_V3 = """
CREATE TABLE created_invoices (
    company_id    INTEGER NOT NULL REFERENCES companies (id),
    external_guid TEXT NOT NULL,
    txn_id        TEXT NOT NULL,
    customer      TEXT,
    txn_date      TEXT,
    request_id    INTEGER REFERENCES requests (id),
    recorded_at   TEXT NOT NULL,
    deleted_at    TEXT,
    PRIMARY KEY (company_id, external_guid)
);
CREATE INDEX created_invoices_by_txn ON created_invoices (company_id, txn_id);

INSERT OR REPLACE INTO created_invoices
    (company_id, external_guid, txn_id, customer, txn_date, request_id, recorded_at)
SELECT r.company_id, lower(trim(trim(r.external_guid), '{}')), s.txn_id,
       json_extract(r.lookup, '$.customer'), json_extract(r.lookup, '$.txn_date'),
       r.id, s.received_at
FROM requests r JOIN responses s ON s.request_id = r.id
WHERE r.kind = 'InvoiceAddRq' AND r.external_guid IS NOT NULL
  AND s.txn_id IS NOT NULL AND s.status_code = 0
ORDER BY s.id;

ALTER TABLE snapshots ADD COLUMN coverage TEXT;

CREATE INDEX failed_sign_ins_by_client ON failed_sign_ins (client, at);
"""

# Calls the server refused (malformed, unauthenticated, out of turn): counted
# apart from every company's sync errors, by why they were refused.
_V4 = """
CREATE TABLE rejected_calls (
    reason   TEXT PRIMARY KEY,
    count    INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at  TEXT NOT NULL
);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4)

SCHEMA_VERSION = len(MIGRATIONS)
