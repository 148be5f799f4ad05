-- 0005 async: the queue of requests accepted by /async/{proxyId}/… and the
-- lease of the node that runs queue maintenance, matching SQLite's 0005.
--
-- Workers on every node claim due requests with
-- UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n), so two
-- nodes never claim the same row and neither waits for the other. While
-- running, a request holds a lease (owner, until) its worker extends; a
-- lease that ends means the node died, and the maintenance leader puts the
-- request back in line for any node.

CREATE TABLE async_requests (
    id                 text COLLATE "C" PRIMARY KEY,
    client_id          text COLLATE "C" NOT NULL,
    proxy_id           text COLLATE "C" NOT NULL,
    state              text NOT NULL CHECK (state IN ('queued', 'running', 'retrying', 'succeeded', 'failed', 'dead', 'cancelled')),
    method             text NOT NULL,
    path               text NOT NULL,
    query              text NOT NULL DEFAULT '',
    headers            jsonb NOT NULL DEFAULT '{}',
    body               bytea,
    idempotency_key    text,
    fingerprint        bytea,
    callback_url       text NOT NULL DEFAULT '',
    received_at        timestamptz NOT NULL,
    attempts           integer NOT NULL DEFAULT 0,
    attempt_base       integer NOT NULL DEFAULT 0,
    window_start       timestamptz NOT NULL,
    next_attempt_at    timestamptz,
    lease_owner        text NOT NULL DEFAULT '',
    lease_until        timestamptz,
    attempt_started_at timestamptz,
    history            jsonb NOT NULL DEFAULT '[]',
    last_error         text NOT NULL DEFAULT '',
    response           jsonb,
    processed_at       timestamptz,
    callback_state     text NOT NULL DEFAULT '' CHECK (callback_state IN ('', 'pending', 'delivered', 'failed')),
    callback_attempts  integer NOT NULL DEFAULT 0,
    callback_next_at   timestamptz,
    callback_status    integer NOT NULL DEFAULT 0,
    callback_error     text NOT NULL DEFAULT '',
    version            bigint NOT NULL DEFAULT 1,
    updated_at         timestamptz NOT NULL
);

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
    name  text PRIMARY KEY,
    owner text NOT NULL,
    until timestamptz NOT NULL
);
