-- Statements of the async queue (migration 0005). Every SELECT and
-- RETURNING lists the columns in the order scanAsync reads them.

-- name: AsyncInsert
INSERT INTO async_requests (
    id, client_id, proxy_id, state, method, path, query, headers, body,
    idempotency_key, fingerprint, callback_url, received_at, attempts,
    attempt_base, window_start, next_attempt_at, history, callback_state,
    version, updated_at
) VALUES (
    :id, :client_id, :proxy_id, :state, :method, :path, :query, :headers, :body,
    :idempotency_key, :fingerprint, :callback_url, :received_at, 0,
    0, :window_start, :next_attempt_at, '[]', '',
    1, :updated_at
) ON CONFLICT DO NOTHING;

-- name: AsyncKeyHolder
SELECT id, received_at, fingerprint FROM async_requests
WHERE proxy_id = :proxy_id AND idempotency_key = :idempotency_key;

-- name: AsyncKeyRelease
UPDATE async_requests SET idempotency_key = NULL WHERE id = :id;

-- name: AsyncGet
SELECT id, client_id, proxy_id, state, method, path, query, headers, body,
       idempotency_key, fingerprint, callback_url, received_at, attempts,
       attempt_base, window_start, next_attempt_at, lease_owner, lease_until,
       attempt_started_at, history, last_error, response, processed_at,
       callback_state, callback_attempts, callback_next_at, callback_status,
       callback_error, version, updated_at
FROM async_requests WHERE id = :id;

-- name: AsyncUpdate
UPDATE async_requests SET
    state = :state, attempts = :attempts, attempt_base = :attempt_base,
    window_start = :window_start, next_attempt_at = :next_attempt_at,
    lease_owner = :lease_owner, lease_until = :lease_until,
    attempt_started_at = :attempt_started_at, history = :history,
    last_error = :last_error, response = :response, processed_at = :processed_at,
    callback_state = :callback_state, callback_attempts = :callback_attempts,
    callback_next_at = :callback_next_at, callback_status = :callback_status,
    callback_error = :callback_error, version = version + 1, updated_at = :updated_at
WHERE id = :id AND version = :version;

-- name: AsyncExists
SELECT count(*) FROM async_requests WHERE id = :id;

-- name: AsyncClaim
UPDATE async_requests SET
    state = 'running', attempts = attempts + 1, attempt_started_at = :now,
    lease_owner = :owner, lease_until = :lease_until,
    version = version + 1, updated_at = :now
WHERE id IN (
    SELECT id FROM async_requests
    WHERE state IN ('queued', 'retrying') AND next_attempt_at <= :now
      AND proxy_id NOT IN (SELECT value FROM json_each(:exclude))
    ORDER BY next_attempt_at, id
    LIMIT :limit
)
RETURNING id, client_id, proxy_id, state, method, path, query, headers, body,
       idempotency_key, fingerprint, callback_url, received_at, attempts,
       attempt_base, window_start, next_attempt_at, lease_owner, lease_until,
       attempt_started_at, history, last_error, response, processed_at,
       callback_state, callback_attempts, callback_next_at, callback_status,
       callback_error, version, updated_at;

-- name: AsyncLeaseExtend
UPDATE async_requests SET lease_until = :until
WHERE state = 'running' AND lease_owner = :owner;

-- name: AsyncListExpired
SELECT id, client_id, proxy_id, state, method, path, query, headers, body,
       idempotency_key, fingerprint, callback_url, received_at, attempts,
       attempt_base, window_start, next_attempt_at, lease_owner, lease_until,
       attempt_started_at, history, last_error, response, processed_at,
       callback_state, callback_attempts, callback_next_at, callback_status,
       callback_error, version, updated_at
FROM async_requests
WHERE state = 'running' AND lease_until < :now
ORDER BY lease_until, id
LIMIT :limit;

-- name: AsyncCancelProxy
UPDATE async_requests SET
    state = 'cancelled', next_attempt_at = NULL, processed_at = :now,
    last_error = 'The proxy was deleted', version = version + 1, updated_at = :now
WHERE client_id = :client_id AND proxy_id = :proxy_id AND state IN ('queued', 'retrying');

-- name: AsyncCallbackClaim
UPDATE async_requests SET callback_next_at = :lease_until
WHERE id IN (
    SELECT id FROM async_requests
    WHERE callback_state = 'pending' AND callback_next_at <= :now
    ORDER BY callback_next_at, id
    LIMIT :limit
)
RETURNING id, client_id, proxy_id, state, method, path, query, headers, body,
       idempotency_key, fingerprint, callback_url, received_at, attempts,
       attempt_base, window_start, next_attempt_at, lease_owner, lease_until,
       attempt_started_at, history, last_error, response, processed_at,
       callback_state, callback_attempts, callback_next_at, callback_status,
       callback_error, version, updated_at;

-- name: AsyncCallbackUpdate
UPDATE async_requests SET
    callback_state = :callback_state, callback_attempts = :callback_attempts,
    callback_next_at = :callback_next_at, callback_status = :callback_status,
    callback_error = :callback_error
WHERE id = :id AND callback_state = 'pending' AND callback_next_at = :lease_at;

-- name: AsyncDeleteBefore
DELETE FROM async_requests WHERE id IN (
    SELECT id FROM async_requests
    WHERE processed_at < :cutoff AND state IN ('succeeded', 'failed', 'dead', 'cancelled')
      AND callback_state <> 'pending'
    ORDER BY processed_at
    LIMIT :limit
);

-- name: AsyncLeaderAcquire
INSERT INTO async_leaders (name, owner, until) VALUES (:name, :owner, :until)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
WHERE async_leaders.owner = excluded.owner OR async_leaders.until < :now
RETURNING owner;

-- name: AsyncLeaderRelease
DELETE FROM async_leaders WHERE name = :name AND owner = :owner;
