-- Statements of the dashboard's async request list (store.AsyncBrowse).
-- Lists leave the body and the stored response out (NULL): a page of 50
-- would otherwise read up to 100 MiB. The (client_id, proxy_id, state)
-- index selects the rows; a proxy's requests are bounded by the queue's
-- retention, so the sort is of a bounded set.

-- name: AsyncBrowseList
SELECT id, client_id, proxy_id, state, method, path, query, headers, NULL,
       idempotency_key, fingerprint, callback_url, received_at, attempts,
       attempt_base, window_start, next_attempt_at, lease_owner, lease_until,
       attempt_started_at, history, last_error, NULL, processed_at,
       callback_state, callback_attempts, callback_next_at, callback_status,
       callback_error, version, updated_at
FROM async_requests
WHERE client_id = :client_id AND proxy_id = :proxy_id
    AND (:any_state = 1 OR state IN (SELECT value FROM json_each(:states)))
    AND (received_at, id) < (:cursor_at, :cursor_id)
ORDER BY received_at DESC, id DESC
LIMIT :limit;

-- name: AsyncBrowseCountStates
SELECT state, count(*) FROM async_requests
WHERE client_id = :client_id AND proxy_id = :proxy_id
GROUP BY state;
