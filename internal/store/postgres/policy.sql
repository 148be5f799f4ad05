-- Rules, filters, meters and usage counters (migration 0002). Owner
-- columns: exactly one of credential_id, proxy_id, target_id is set, as
-- owner_kind says; ids are unique across kinds, so matching any of them
-- against the owner id is exact.

-- name: RuleInsert
INSERT INTO rules (id, client_id, owner_kind, credential_id, proxy_id, target_id, effect, priority,
    methods, path_pattern, path_presence, header_checks, query_checks, body_checks, regex_flags,
    notes, created_at, updated_at)
VALUES (@id, @client_id, @owner_kind, @credential_id, @proxy_id, @target_id, @effect, @priority,
    @methods, @path_pattern, @path_presence, @header_checks, @query_checks, @body_checks, @regex_flags,
    @notes, @created_at, @updated_at);

-- name: RuleGetByID
SELECT id, client_id, owner_kind, credential_id, proxy_id, target_id, effect, priority, methods,
    path_pattern, path_presence, header_checks, query_checks, body_checks, regex_flags, notes,
    created_at, updated_at
FROM rules WHERE client_id = @client_id AND id = @id;

-- name: RuleList
SELECT id, client_id, owner_kind, credential_id, proxy_id, target_id, effect, priority, methods,
    path_pattern, path_presence, header_checks, query_checks, body_checks, regex_flags, notes,
    created_at, updated_at
FROM rules
WHERE client_id = @client_id AND owner_kind = @owner_kind
    AND (credential_id = @owner_id OR proxy_id = @owner_id OR target_id = @owner_id)
ORDER BY priority DESC, created_at, id;

-- name: RuleListAll
SELECT id, client_id, owner_kind, credential_id, proxy_id, target_id, effect, priority, methods,
    path_pattern, path_presence, header_checks, query_checks, body_checks, regex_flags, notes,
    created_at, updated_at
FROM rules ORDER BY priority DESC, created_at, id;

-- name: RuleUpdate
UPDATE rules SET effect = @effect, priority = @priority, methods = @methods,
    path_pattern = @path_pattern, path_presence = @path_presence, header_checks = @header_checks,
    query_checks = @query_checks, body_checks = @body_checks, regex_flags = @regex_flags,
    notes = @notes, updated_at = @updated_at
WHERE client_id = @client_id AND id = @id;

-- name: RuleDelete
DELETE FROM rules WHERE client_id = @client_id AND id = @id;

-- name: FilterInsert
INSERT INTO filters (id, client_id, owner_kind, credential_id, proxy_id, target_id, action, paths,
    notes, created_at, updated_at)
VALUES (@id, @client_id, @owner_kind, @credential_id, @proxy_id, @target_id, @action, @paths,
    @notes, @created_at, @updated_at);

-- name: FilterGetByID
SELECT id, client_id, owner_kind, credential_id, proxy_id, target_id, action, paths, notes,
    created_at, updated_at
FROM filters WHERE client_id = @client_id AND id = @id;

-- name: FilterList
SELECT id, client_id, owner_kind, credential_id, proxy_id, target_id, action, paths, notes,
    created_at, updated_at
FROM filters
WHERE client_id = @client_id AND owner_kind = @owner_kind
    AND (credential_id = @owner_id OR proxy_id = @owner_id OR target_id = @owner_id)
ORDER BY created_at, id;

-- name: FilterListAll
SELECT id, client_id, owner_kind, credential_id, proxy_id, target_id, action, paths, notes,
    created_at, updated_at
FROM filters ORDER BY created_at, id;

-- name: FilterUpdate
UPDATE filters SET action = @action, paths = @paths, notes = @notes, updated_at = @updated_at
WHERE client_id = @client_id AND id = @id;

-- name: FilterDelete
DELETE FROM filters WHERE client_id = @client_id AND id = @id;

-- name: MeterInsert
INSERT INTO meters (id, client_id, proxy_id, name, type, active, mode, predicates, limits,
    extraction, created_at, updated_at)
VALUES (@id, @client_id, @proxy_id, @name, @type, @active, @mode, @predicates, @limits,
    @extraction, @created_at, @updated_at);

-- name: MeterGetByID
SELECT id, client_id, proxy_id, name, type, active, mode, predicates, limits, extraction,
    created_at, updated_at
FROM meters WHERE client_id = @client_id AND id = @id;

-- name: MeterList
SELECT id, client_id, proxy_id, name, type, active, mode, predicates, limits, extraction,
    created_at, updated_at
FROM meters WHERE client_id = @client_id AND proxy_id = @proxy_id
ORDER BY created_at, id;

-- name: MeterListAll
SELECT id, client_id, proxy_id, name, type, active, mode, predicates, limits, extraction,
    created_at, updated_at
FROM meters ORDER BY created_at, id;

-- name: MeterUpdate
UPDATE meters SET name = @name, type = @type, active = @active, mode = @mode,
    predicates = @predicates, limits = @limits, extraction = @extraction, updated_at = @updated_at
WHERE client_id = @client_id AND id = @id;

-- name: MeterDelete
DELETE FROM meters WHERE client_id = @client_id AND id = @id;

-- name: CounterAdd
INSERT INTO counters (subject, window_kind, window_start, window_end, value)
VALUES (@subject, @window_kind, @window_start, @window_end, @delta)
ON CONFLICT (subject, window_kind, window_start) DO UPDATE SET value = counters.value + excluded.value
RETURNING value;

-- name: CounterGet
SELECT value FROM counters
WHERE subject = @subject AND window_kind = @window_kind AND window_start = @window_start;

-- A lease locks its row (FOR UPDATE) between reading it and adding the
-- grant, so concurrent leases from several nodes serialise on the row.
-- name: CounterEnsure
INSERT INTO counters (subject, window_kind, window_start, window_end, value)
VALUES (@subject, @window_kind, @window_start, @window_end, 0)
ON CONFLICT (subject, window_kind, window_start) DO NOTHING;

-- name: CounterLock
SELECT value FROM counters
WHERE subject = @subject AND window_kind = @window_kind AND window_start = @window_start
FOR UPDATE;

-- name: CounterGrant
UPDATE counters SET value = value + @granted
WHERE subject = @subject AND window_kind = @window_kind AND window_start = @window_start
RETURNING value;

-- name: CounterListActive
SELECT subject, window_kind, window_start, window_end, value
FROM counters WHERE window_end > @at;

-- name: CounterDeleteExpired
DELETE FROM counters
WHERE (subject, window_kind, window_start) IN (
    SELECT subject, window_kind, window_start FROM counters WHERE window_end < @before LIMIT @limit);
