-- Queries of the teams feature (memberships, clients, invites, audit log)
-- on SQLite; see queries.sql for the conventions.

-- name: ClientUsage
SELECT
    (SELECT count(*) FROM credentials WHERE client_id = :id),
    (SELECT count(*) FROM targets WHERE client_id = :id),
    (SELECT count(*) FROM proxies WHERE client_id = :id);

-- name: ClientDelete
DELETE FROM clients WHERE id = :id;

-- name: OwnerCount
SELECT count(*) FROM memberships m, json_each(m.roles) r
WHERE m.client_id = :client_id AND r.value = 'owner';

-- name: MemberExists
SELECT EXISTS (SELECT 1 FROM memberships WHERE client_id = :client_id AND user_id = :user_id);

-- name: SoleOwnedClients
SELECT m.client_id FROM memberships m, json_each(m.roles) r
WHERE m.user_id = :user_id AND r.value = 'owner'
  AND (SELECT count(*) FROM memberships o, json_each(o.roles) ro
       WHERE o.client_id = m.client_id AND ro.value = 'owner') = 1
ORDER BY m.client_id;

-- name: UserDelete
DELETE FROM users WHERE id = :id;

-- name: TokenDeleteOthers
DELETE FROM tokens WHERE user_id = :user_id AND id <> :keep_id;

-- name: InviteInsert
INSERT INTO invites (id, client_id, token_hash, email, name, roles, created_by, created_at, expires_at, accepted_at, accepted_by)
VALUES (:id, :client_id, :token_hash, :email, :name, :roles, :created_by, :created_at, :expires_at, :accepted_at, :accepted_by);

-- name: InviteGetByHash
SELECT id, client_id, token_hash, email, name, roles, created_by, created_at, expires_at, accepted_at, accepted_by
FROM invites WHERE token_hash = :token_hash;

-- name: InviteList
SELECT id, client_id, token_hash, email, name, roles, created_by, created_at, expires_at, accepted_at, accepted_by
FROM invites WHERE client_id = :client_id ORDER BY created_at DESC, id DESC;

-- name: InviteDelete
DELETE FROM invites WHERE client_id = :client_id AND id = :id;

-- name: InviteUse
UPDATE invites SET accepted_at = :now, accepted_by = :user_id
WHERE token_hash = :token_hash AND accepted_at IS NULL AND expires_at > :now
RETURNING id, client_id, token_hash, email, name, roles, created_by, created_at, expires_at, accepted_at, accepted_by;

-- name: AuditInsert
INSERT INTO audit_log (id, client_id, at, actor_id, actor_name, token_id, via, remote_addr, request_id,
    action, resource_type, resource_id, resource_name, changes)
VALUES (:id, :client_id, :at, :actor_id, :actor_name, :token_id, :via, :remote_addr, :request_id,
    :action, :resource_type, :resource_id, :resource_name, :changes);

-- name: AuditList
SELECT id, client_id, at, actor_id, actor_name, token_id, via, remote_addr, request_id,
    action, resource_type, resource_id, resource_name, changes
FROM audit_log
WHERE client_id = :client_id
  AND (:resource_type = '' OR resource_type = :resource_type)
  AND (:resource_id = '' OR resource_id = :resource_id)
  AND (:actor_id = '' OR actor_id = :actor_id)
  AND (:from IS NULL OR at >= :from)
  AND (:to IS NULL OR at < :to)
  AND (:after_at IS NULL OR at < :after_at OR (at = :after_at AND id < :after_id))
ORDER BY at DESC, id DESC
LIMIT :limit;
