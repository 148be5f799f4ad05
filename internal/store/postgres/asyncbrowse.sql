-- Statements of the dashboard's async request list (store.AsyncBrowse);
-- see the SQLite file for the reasoning. Matches SQLite's asyncbrowse.sql.

-- name: AsyncBrowseList
SELECT id, client_id, proxy_id, state, method, path, query, headers, NULL::bytea,
       idempotency_key, fingerprint, callback_url, received_at, attempts,
       attempt_base, window_start, next_attempt_at, lease_owner, lease_until,
       attempt_started_at, history, last_error, NULL::jsonb, processed_at,
       callback_state, callback_attempts, callback_next_at, callback_status,
       callback_error, version, updated_at
FROM async_requests
WHERE client_id = @client_id AND proxy_id = @proxy_id
    AND (cardinality(@states::text[]) = 0 OR state = ANY (@states::text[]))
    AND (received_at, id) < (@cursor_at, @cursor_id)
ORDER BY received_at DESC, id DESC
LIMIT @limit;

-- name: AsyncBrowseCountStates
SELECT state, count(*) FROM async_requests
WHERE client_id = @client_id AND proxy_id = @proxy_id
GROUP BY state;
