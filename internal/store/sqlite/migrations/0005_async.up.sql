-- 0005 async: the queue of requests accepted by /async/{proxyId}/… and the
-- lease of the node that runs queue maintenance.
--
-- A request is claimed by UPDATE … WHERE id IN (SELECT … LIMIT n), which on
-- SQLite runs on the single write connection, so two workers never claim
-- the same row. While running, a request holds a lease (owner, until) that
-- its worker extends; a lease that ends means the worker died, and the
-- maintenance leader puts the request back in line.
--
-- Requests do not reference proxies: a deleted proxy's requests keep their
-- history (pending ones are cancelled when it is deleted).

CREATE TABLE async_requests (
    id                 TEXT PRIMARY KEY,
    client_id          TEXT NOT NULL,
    proxy_id           TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('queued', 'running', 'retrying', 'succeeded', 'failed', 'dead', 'cancelled')),
    method             TEXT NOT NULL,
    path               TEXT NOT NULL,
    query              TEXT NOT NULL DEFAULT '',
    headers            TEXT NOT NULL DEFAULT '{}',
    body               BLOB,
    idempotency_key    TEXT,
    fingerprint        BLOB,
    callback_url       TEXT NOT NULL DEFAULT '',
    received_at        INTEGER NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    attempt_base       INTEGER NOT NULL DEFAULT 0,
    window_start       INTEGER NOT NULL,
    next_attempt_at    INTEGER,
    lease_owner        TEXT NOT NULL DEFAULT '',
    lease_until        INTEGER,
    attempt_started_at INTEGER,
    history            TEXT NOT NULL DEFAULT '[]',
    last_error         TEXT NOT NULL DEFAULT '',
    response           TEXT,
    processed_at       INTEGER,
    callback_state     TEXT NOT NULL DEFAULT '' CHECK (callback_state IN ('', 'pending', 'delivered', 'failed')),
    callback_attempts  INTEGER NOT NULL DEFAULT 0,
    callback_next_at   INTEGER,
    callback_status    INTEGER NOT NULL DEFAULT 0,
    callback_error     TEXT NOT NULL DEFAULT '',
    version            INTEGER NOT NULL DEFAULT 1,
    updated_at         INTEGER NOT NULL
) STRICT;

-- Partial indexes keep the hot lookups small however many final rows the
-- table keeps for retention.
CREATE INDEX async_requests_due_idx ON async_requests (next_attempt_at, id)
    WHERE state IN ('queued', 'retrying');
CREATE INDEX async_requests_lease_idx ON async_requests (lease_until)
    WHERE state = 'running';
CREATE INDEX async_requests_owner_idx ON async_requests (lease_owner)
    WHERE state = 'running';
CREATE UNIQUE INDEX async_requests_idempotency_idx ON async_requests (proxy_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX async_requests_callback_idx ON async_requests (callback_next_at)
    WHERE callback_state = 'pending';
CREATE INDEX async_requests_processed_idx ON async_requests (processed_at)
    WHERE processed_at IS NOT NULL;
CREATE INDEX async_requests_proxy_idx ON async_requests (client_id, proxy_id, state);

CREATE TABLE async_leaders (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until INTEGER NOT NULL
) STRICT;
