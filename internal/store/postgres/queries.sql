-- Queries of the PostgreSQL adapter. Each starts with a "-- name: X" marker;
-- X must match a field of the queries struct in queries.go (checked at
-- init). Parameters are named (@name) and bound with pgx.StrictNamedArgs,
-- which refuses a missing or an extra argument.

-- name: MigrationsTableCreate
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL
);

-- Every migration transaction takes this lock first, so concurrent nodes
-- apply each migration once; statement_timeout is lifted for the
-- transaction because a migration (or the wait for another node's) may
-- legitimately take longer than an ordinary statement. The context
-- deadline still bounds it.
-- name: MigrationLock
SELECT set_config('statement_timeout', '0', true), pg_advisory_xact_lock(@key);

-- name: MigrationsTableExists
SELECT to_regclass('schema_migrations') IS NOT NULL;

-- name: MigrationsApplied
SELECT version, applied_at FROM schema_migrations ORDER BY version;

-- name: MigrationInsert
INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @applied_at);

-- name: MigrationDelete
DELETE FROM schema_migrations WHERE version = @version;

-- name: MetaGet
SELECT value FROM meta WHERE key = @key;

-- name: MetaInsertIfAbsent
INSERT INTO meta (key, value) VALUES (@key, @value) ON CONFLICT (key) DO NOTHING;

-- name: ChangeVersionGet
SELECT version FROM change_version WHERE id = 1;

-- Bumps the version and announces it on the channel ChangesListen listens
-- on; NOTIFY is delivered at commit, so listeners never see a version whose
-- rows they cannot read yet.
-- name: ChangeVersionBump
WITH bumped AS (
    UPDATE change_version SET version = version + 1 WHERE id = 1 RETURNING version
)
SELECT pg_notify('keyway_changes', version::text) FROM bumped;

-- name: ChangesListen
LISTEN keyway_changes;

-- Serialises first starts: the users check and the inserts run under it.
-- name: BootstrapLock
SELECT pg_advisory_xact_lock(@key);

-- name: UsersExist
SELECT EXISTS (SELECT 1 FROM users);

-- name: ClientInsert
INSERT INTO clients (id, name, config, created_at, updated_at)
VALUES (@id, @name, @config, @created_at, @updated_at);

-- name: ClientGetByID
SELECT id, name, config, created_at, updated_at FROM clients WHERE id = @id;

-- name: ClientList
SELECT id, name, config, created_at, updated_at FROM clients ORDER BY created_at, id;

-- name: ClientListForUser
SELECT c.id, c.name, c.config, c.created_at, c.updated_at
FROM clients c JOIN memberships m ON m.client_id = c.id
WHERE m.user_id = @user_id
ORDER BY c.created_at, c.id;

-- name: ClientUpdate
UPDATE clients SET name = @name, config = @config, updated_at = @updated_at WHERE id = @id;

-- name: UserInsert
INSERT INTO users (id, name, password_hash, instance_admin, password_changed_at, created_at, updated_at)
VALUES (@id, @name, @password_hash, @instance_admin, @password_changed_at, @created_at, @updated_at);

-- name: UserGetByID
SELECT id, name, password_hash, instance_admin, password_changed_at, created_at, updated_at
FROM users WHERE id = @id;

-- name: UserGetByName
SELECT id, name, password_hash, instance_admin, password_changed_at, created_at, updated_at
FROM users WHERE name = @name;

-- name: UserList
SELECT id, name, password_hash, instance_admin, password_changed_at, created_at, updated_at
FROM users ORDER BY created_at, id;

-- name: UserUpdate
UPDATE users SET name = @name, password_hash = @password_hash, instance_admin = @instance_admin,
    password_changed_at = @password_changed_at, updated_at = @updated_at
WHERE id = @id;

-- name: MembershipUpsert
INSERT INTO memberships (client_id, user_id, roles, created_at)
VALUES (@client_id, @user_id, @roles, @created_at)
ON CONFLICT (client_id, user_id) DO UPDATE SET roles = excluded.roles;

-- name: MembershipGet
SELECT client_id, user_id, roles, created_at FROM memberships
WHERE client_id = @client_id AND user_id = @user_id;

-- name: MembershipList
SELECT client_id, user_id, roles, created_at FROM memberships
WHERE client_id = @client_id ORDER BY created_at, user_id;

-- name: MembershipDelete
DELETE FROM memberships WHERE client_id = @client_id AND user_id = @user_id;

-- name: TokenInsert
INSERT INTO tokens (id, user_id, name, hash, hint, created_at, last_used_at, expires_at)
VALUES (@id, @user_id, @name, @hash, @hint, @created_at, @last_used_at, @expires_at);

-- name: TokenGetByHash
SELECT id, user_id, name, hash, hint, created_at, last_used_at, expires_at
FROM tokens WHERE hash = @hash;

-- name: TokenListForUser
SELECT id, user_id, name, hash, hint, created_at, last_used_at, expires_at
FROM tokens WHERE user_id = @user_id ORDER BY created_at, id;

-- name: TokenDelete
DELETE FROM tokens WHERE user_id = @user_id AND id = @id;

-- name: TokenTouch
UPDATE tokens SET last_used_at = @last_used_at WHERE id = @id;

-- name: CredentialInsert
INSERT INTO credentials (id, client_id, name, type, auth_type, region, config, secret_sealed,
    secret_hash, prev_secret_hash, prev_secret_until, default_rule_effect, expires_at, temporary,
    created_at, updated_at)
VALUES (@id, @client_id, @name, @type, @auth_type, @region, @config, @secret_sealed,
    @secret_hash, @prev_secret_hash, @prev_secret_until, @default_rule_effect, @expires_at, @temporary,
    @created_at, @updated_at);

-- name: CredentialGetByID
SELECT id, client_id, name, type, auth_type, region, config, secret_sealed, secret_hash,
    prev_secret_hash, prev_secret_until, default_rule_effect, expires_at, temporary, created_at, updated_at
FROM credentials WHERE client_id = @client_id AND id = @id;

-- name: CredentialList
SELECT id, client_id, name, type, auth_type, region, config, secret_sealed, secret_hash,
    prev_secret_hash, prev_secret_until, default_rule_effect, expires_at, temporary, created_at, updated_at
FROM credentials
WHERE client_id = @client_id AND (@include_temporary::boolean OR NOT temporary)
ORDER BY created_at, id;

-- name: CredentialListAll
SELECT id, client_id, name, type, auth_type, region, config, secret_sealed, secret_hash,
    prev_secret_hash, prev_secret_until, default_rule_effect, expires_at, temporary, created_at, updated_at
FROM credentials ORDER BY created_at, id;

-- name: CredentialUpdate
UPDATE credentials SET name = @name, type = @type, auth_type = @auth_type, region = @region,
    config = @config, secret_sealed = @secret_sealed, secret_hash = @secret_hash,
    prev_secret_hash = @prev_secret_hash, prev_secret_until = @prev_secret_until,
    default_rule_effect = @default_rule_effect, expires_at = @expires_at, temporary = @temporary,
    updated_at = @updated_at
WHERE client_id = @client_id AND id = @id;

-- Locks the credential so no proxy can start using it between the usage
-- check and the delete (a proxy insert takes KEY SHARE on it).
-- name: CredentialLock
SELECT id FROM credentials WHERE client_id = @client_id AND id = @id FOR UPDATE;

-- name: CredentialUsers
SELECT name FROM proxies
WHERE client_id = @client_id AND (proxy_credential_id = @id OR target_credential_id = @id)
ORDER BY name COLLATE "C";

-- name: CredentialDelete
DELETE FROM credentials WHERE client_id = @client_id AND id = @id;

-- name: TargetInsert
INSERT INTO targets (id, client_id, name, base_url, test_path, region, default_rule_effect,
    timeout_seconds, idle_timeout_seconds, headers, max_response_bytes, tls, created_at, updated_at)
VALUES (@id, @client_id, @name, @base_url, @test_path, @region, @default_rule_effect,
    @timeout_seconds, @idle_timeout_seconds, @headers, @max_response_bytes, @tls, @created_at, @updated_at);

-- name: TargetGetByID
SELECT id, client_id, name, base_url, test_path, region, default_rule_effect, timeout_seconds,
    idle_timeout_seconds, headers, max_response_bytes, tls, created_at, updated_at
FROM targets WHERE client_id = @client_id AND id = @id;

-- name: TargetList
SELECT id, client_id, name, base_url, test_path, region, default_rule_effect, timeout_seconds,
    idle_timeout_seconds, headers, max_response_bytes, tls, created_at, updated_at
FROM targets WHERE client_id = @client_id ORDER BY created_at, id;

-- name: TargetListAll
SELECT id, client_id, name, base_url, test_path, region, default_rule_effect, timeout_seconds,
    idle_timeout_seconds, headers, max_response_bytes, tls, created_at, updated_at
FROM targets ORDER BY created_at, id;

-- name: TargetUpdate
UPDATE targets SET name = @name, base_url = @base_url, test_path = @test_path, region = @region,
    default_rule_effect = @default_rule_effect, timeout_seconds = @timeout_seconds,
    idle_timeout_seconds = @idle_timeout_seconds, headers = @headers,
    max_response_bytes = @max_response_bytes, tls = @tls, updated_at = @updated_at
WHERE client_id = @client_id AND id = @id;

-- name: TargetLock
SELECT id FROM targets WHERE client_id = @client_id AND id = @id FOR UPDATE;

-- name: TargetUsers
SELECT name FROM proxies WHERE client_id = @client_id AND target_id = @id ORDER BY name COLLATE "C";

-- name: TargetDelete
DELETE FROM targets WHERE client_id = @client_id AND id = @id;

-- name: ProxyInsert
INSERT INTO proxies (id, client_id, name, active, region, proxy_credential_id, target_id,
    target_credential_id, default_rule_effect, max_requests_per_minute, max_requests_per_day,
    async_max_retries, async_retry_window_seconds, async_attempt_timeout_seconds,
    async_callback_origins, cors_origins, webhook_secret_sealed, log_bodies, created_at, updated_at)
VALUES (@id, @client_id, @name, @active, @region, @proxy_credential_id, @target_id,
    @target_credential_id, @default_rule_effect, @max_requests_per_minute, @max_requests_per_day,
    @async_max_retries, @async_retry_window_seconds, @async_attempt_timeout_seconds,
    @async_callback_origins, @cors_origins, @webhook_secret_sealed, @log_bodies, @created_at, @updated_at);

-- name: ProxyGetByID
SELECT id, client_id, name, active, region, proxy_credential_id, target_id, target_credential_id,
    default_rule_effect, max_requests_per_minute, max_requests_per_day, async_max_retries,
    async_retry_window_seconds, async_attempt_timeout_seconds, async_callback_origins, cors_origins,
    webhook_secret_sealed, log_bodies, created_at, updated_at
FROM proxies WHERE client_id = @client_id AND id = @id;

-- The ProxyList query is completed by one of the ProxyOrder* clauses.
-- name: ProxyList
SELECT id, client_id, name, active, region, proxy_credential_id, target_id, target_credential_id,
    default_rule_effect, max_requests_per_minute, max_requests_per_day, async_max_retries,
    async_retry_window_seconds, async_attempt_timeout_seconds, async_callback_origins, cors_origins,
    webhook_secret_sealed, log_bodies, created_at, updated_at
FROM proxies
WHERE client_id = @client_id
    AND (@region::text = '' OR region = @region::text)
    AND (@active::boolean IS NULL OR active = @active::boolean)

-- name: ProxyOrderCreatedAsc
ORDER BY created_at, id

-- name: ProxyOrderCreatedDesc
ORDER BY created_at DESC, id DESC

-- name: ProxyOrderNameAsc
ORDER BY lower(name) COLLATE "C", id

-- name: ProxyOrderNameDesc
ORDER BY lower(name) COLLATE "C" DESC, id DESC

-- name: ProxyListAll
SELECT id, client_id, name, active, region, proxy_credential_id, target_id, target_credential_id,
    default_rule_effect, max_requests_per_minute, max_requests_per_day, async_max_retries,
    async_retry_window_seconds, async_attempt_timeout_seconds, async_callback_origins, cors_origins,
    webhook_secret_sealed, log_bodies, created_at, updated_at
FROM proxies ORDER BY created_at, id;

-- name: ProxyUpdate
UPDATE proxies SET name = @name, active = @active, region = @region,
    proxy_credential_id = @proxy_credential_id, target_id = @target_id,
    target_credential_id = @target_credential_id, default_rule_effect = @default_rule_effect,
    max_requests_per_minute = @max_requests_per_minute, max_requests_per_day = @max_requests_per_day,
    async_max_retries = @async_max_retries, async_retry_window_seconds = @async_retry_window_seconds,
    async_attempt_timeout_seconds = @async_attempt_timeout_seconds,
    async_callback_origins = @async_callback_origins, cors_origins = @cors_origins,
    webhook_secret_sealed = @webhook_secret_sealed, log_bodies = @log_bodies, updated_at = @updated_at
WHERE client_id = @client_id AND id = @id;

-- name: ProxyDelete
DELETE FROM proxies WHERE client_id = @client_id AND id = @id;
