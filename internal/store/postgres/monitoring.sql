-- Statements of the monitoring feature (issue 7): request log, rollups,
-- notifications, webhooks. Loaded into monitoringQueries by monitoring.go.

-- name: RequestLogUpsert
INSERT INTO request_log (id, proxy_id, client_id, kind, processed, processed_at, status, state,
    entry, request_body, response_body)
VALUES (@id, @proxy_id, @client_id, @kind, @processed, @processed_at, @status, @state, @entry,
    @request_body, @response_body)
ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, processed = excluded.processed,
    processed_at = excluded.processed_at, status = excluded.status, state = excluded.state,
    entry = excluded.entry, request_body = excluded.request_body,
    response_body = excluded.response_body;

-- name: RequestLogGet
SELECT id, proxy_id, client_id, kind, processed, processed_at, status, state, entry, request_body,
    response_body
FROM request_log WHERE id = @id AND proxy_id = @proxy_id AND client_id = @client_id;

-- Absent bounds are passed as extreme times, so every condition is a
-- plain range the (proxy_id, processed_at, id) index serves. Method and
-- path ('' = any) are matched on the rows that range selects, in the
-- entry's text: it always starts {"method":…,"path":… (store.appendEntry),
-- and the caller passes them encoded the same way (store.EntryJSONString).
-- Not ->> on json: a logged value may hold \u0000, which ->> refuses.
-- name: RequestLogList
SELECT id, proxy_id, client_id, kind, processed, processed_at, status, state, entry, NULL::bytea, NULL::bytea
FROM request_log
WHERE proxy_id = @proxy_id AND client_id = @client_id
    AND processed_at > @after AND processed_at < @before
    AND (processed_at, id) < (@cursor_at, @cursor_id)
    AND status BETWEEN @status_min AND @status_max
    AND (@method::text = ''
        OR substring(entry from '^\{"method":("(?:[^"\\]|\\.)*")') = @method::text)
    AND (@path::text = ''
        OR strpos(substring(entry from '^\{"method":"(?:[^"\\]|\\.)*","path":"((?:[^"\\]|\\.)*)"'), @path::text) > 0)
ORDER BY processed_at DESC, id DESC
LIMIT @limit;

-- name: RequestLogCount
SELECT count(*) FROM (
    SELECT 1 FROM request_log
    WHERE proxy_id = @proxy_id AND client_id = @client_id
        AND processed_at > @after AND processed_at < @before
        AND status BETWEEN @status_min AND @status_max
        AND (@method::text = ''
            OR substring(entry from '^\{"method":("(?:[^"\\]|\\.)*")') = @method::text)
        AND (@path::text = ''
            OR strpos(substring(entry from '^\{"method":"(?:[^"\\]|\\.)*","path":"((?:[^"\\]|\\.)*)"'), @path::text) > 0)
    LIMIT @max
) AS matches;

-- name: RequestLogDeleteBefore
DELETE FROM request_log WHERE seq IN (
    SELECT seq FROM request_log WHERE processed_at < @cutoff ORDER BY processed_at LIMIT @limit
);

-- name: RollupEnsure
INSERT INTO rollups (scope, scope_id, bucket, start_at) VALUES (@scope, @scope_id, @bucket, @start_at)
ON CONFLICT DO NOTHING;

-- Locks the bucket until the transaction ends, so a concurrent node's
-- merge waits and then reads this one's result.
-- name: RollupHistograms
SELECT total_hist, overhead_hist, upstream_hist FROM rollups
WHERE scope = @scope AND scope_id = @scope_id AND bucket = @bucket AND start_at = @start_at
FOR UPDATE;

-- name: RollupAddCounts
UPDATE rollups SET requests = requests + @requests, status_2xx = status_2xx + @status_2xx,
    status_4xx = status_4xx + @status_4xx, status_5xx = status_5xx + @status_5xx,
    denied = denied + @denied, limited = limited + @limited,
    total_hist = @total_hist, overhead_hist = @overhead_hist, upstream_hist = @upstream_hist
WHERE scope = @scope AND scope_id = @scope_id AND bucket = @bucket AND start_at = @start_at;

-- name: RollupList
SELECT scope, scope_id, bucket, start_at, requests, status_2xx, status_4xx, status_5xx, denied,
    limited, total_hist, overhead_hist, upstream_hist
FROM rollups
WHERE scope = @scope AND scope_id = @scope_id AND bucket = @bucket
    AND start_at >= @from AND start_at < @to
ORDER BY start_at;

-- name: RollupDeleteBefore
DELETE FROM rollups WHERE (scope, scope_id, bucket, start_at) IN (
    SELECT scope, scope_id, bucket, start_at FROM rollups
    WHERE bucket = @bucket AND start_at < @cutoff LIMIT @limit
);

-- name: NotificationInsert
INSERT INTO notifications (id, scope, scope_id, kind, title, message, data, dedup_key, created_at, read_at)
VALUES (@id, @scope, @scope_id, @kind, @title, @message, @data, @dedup_key, @created_at, @read_at)
ON CONFLICT DO NOTHING;

-- name: NotificationGet
SELECT id, scope, scope_id, kind, title, message, data, dedup_key, created_at, read_at
FROM notifications WHERE scope = @scope AND scope_id = @scope_id AND id = @id;

-- name: NotificationList
SELECT id, scope, scope_id, kind, title, message, data, dedup_key, created_at, read_at
FROM notifications
WHERE scope = @scope AND scope_id = @scope_id
    AND (NOT @unread_only OR read_at IS NULL)
    AND (created_at, id) < (@cursor_at, @cursor_id)
ORDER BY created_at DESC, id DESC
LIMIT @limit;

-- name: NotificationMarkRead
UPDATE notifications SET read_at = @read_at
WHERE scope = @scope AND scope_id = @scope_id AND id = @id AND read_at IS NULL;

-- name: NotificationExists
SELECT EXISTS (SELECT 1 FROM notifications WHERE scope = @scope AND scope_id = @scope_id AND id = @id);

-- name: NotificationDeleteBefore
DELETE FROM notifications WHERE id IN (
    SELECT id FROM notifications WHERE created_at < @cutoff ORDER BY created_at LIMIT @limit
);

-- name: WebhookGet
SELECT client_id, url, secret_sealed, active, created_at, updated_at
FROM notification_webhooks WHERE client_id = @client_id;

-- name: WebhookUpsert
INSERT INTO notification_webhooks (client_id, url, secret_sealed, active, created_at, updated_at)
VALUES (@client_id, @url, @secret_sealed, @active, @created_at, @updated_at)
ON CONFLICT (client_id) DO UPDATE SET url = excluded.url, secret_sealed = excluded.secret_sealed,
    active = excluded.active, updated_at = excluded.updated_at;

-- name: WebhookDelete
DELETE FROM notification_webhooks WHERE client_id = @client_id;

-- name: DeliveryInsert
INSERT INTO notification_deliveries (id, client_id, notification_id, attempts, next_attempt_at, done,
    last_error, created_at)
VALUES (@id, @client_id, @notification_id, @attempts, @next_attempt_at, @done, @last_error, @created_at);

-- Rows another node is claiming are skipped, not waited for.
-- name: DeliveryDue
SELECT d.id, d.client_id, d.notification_id, d.attempts, d.next_attempt_at, d.done, d.last_error,
    d.created_at, n.id, n.scope, n.scope_id, n.kind, n.title, n.message, n.data, n.dedup_key,
    n.created_at, n.read_at
FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
WHERE NOT d.done AND d.next_attempt_at <= @now
ORDER BY d.next_attempt_at, d.id
LIMIT @limit
FOR UPDATE OF d SKIP LOCKED;

-- name: DeliveryLease
UPDATE notification_deliveries SET next_attempt_at = @lease_until
WHERE id = @id AND NOT done;

-- name: DeliveryUpdate
UPDATE notification_deliveries SET attempts = @attempts, next_attempt_at = @next_attempt_at,
    done = @done, last_error = @last_error
WHERE id = @id;

-- name: CredentialListExpiring
SELECT id, client_id, name, type, auth_type, region, config, secret_sealed, secret_hash,
    prev_secret_hash, prev_secret_until, default_rule_effect, expires_at, temporary, created_at, updated_at
FROM credentials
WHERE expires_at >= @from AND expires_at < @to AND NOT temporary
ORDER BY expires_at, id;

-- name: LogChunkInsert
INSERT INTO request_log_chunks (proxy_id, client_id, first_at, last_at, min_id, max_id, entries,
    statuses, data)
VALUES (@proxy_id, @client_id, @first_at, @last_at, @min_id, @max_id, @entries, @statuses, @data);

-- The chunks that may hold entries of the range, newest first, a few at a
-- time after the key (last_at, seq) of the previous few: pgx reads a
-- result to its end even when the caller stops early, so the caller asks
-- for more only while the page is not full (store.LogPage).
-- name: LogChunkList
SELECT seq, first_at, last_at, min_id, max_id, entries, statuses, data FROM request_log_chunks
WHERE proxy_id = @proxy_id AND client_id = @client_id
    AND last_at > @after AND first_at < @before AND first_at <= @cursor_at
    AND (last_at, seq) < (@key_at, @key_seq)
ORDER BY last_at DESC, seq DESC
LIMIT @batch;

-- Chunks written within store.LogIDWindow of the id's time whose id range
-- holds it.
-- name: LogChunkFind
SELECT first_at, last_at, min_id, max_id, entries, statuses, data FROM request_log_chunks
WHERE proxy_id = @proxy_id AND client_id = @client_id
    AND max_id >= @id AND max_id <= @id_ceiling AND min_id <= @id;

-- name: LogChunkDeleteBefore
DELETE FROM request_log_chunks WHERE seq IN (
    SELECT seq FROM request_log_chunks WHERE last_at < @cutoff ORDER BY last_at LIMIT @limit
)
RETURNING entries;
