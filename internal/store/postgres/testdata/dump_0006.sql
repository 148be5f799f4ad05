--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: async_leaders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.async_leaders (
    name text NOT NULL,
    owner text NOT NULL,
    until timestamp with time zone NOT NULL
);


--
-- Name: async_requests; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.async_requests (
    id text NOT NULL COLLATE pg_catalog."C",
    client_id text NOT NULL COLLATE pg_catalog."C",
    proxy_id text NOT NULL COLLATE pg_catalog."C",
    state text NOT NULL,
    method text NOT NULL,
    path text NOT NULL,
    query text DEFAULT ''::text NOT NULL,
    headers jsonb DEFAULT '{}'::jsonb NOT NULL,
    body bytea,
    idempotency_key text,
    fingerprint bytea,
    callback_url text DEFAULT ''::text NOT NULL,
    received_at timestamp with time zone NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    attempt_base integer DEFAULT 0 NOT NULL,
    window_start timestamp with time zone NOT NULL,
    next_attempt_at timestamp with time zone,
    lease_owner text DEFAULT ''::text NOT NULL,
    lease_until timestamp with time zone,
    attempt_started_at timestamp with time zone,
    history jsonb DEFAULT '[]'::jsonb NOT NULL,
    last_error text DEFAULT ''::text NOT NULL,
    response jsonb,
    processed_at timestamp with time zone,
    callback_state text DEFAULT ''::text NOT NULL,
    callback_attempts integer DEFAULT 0 NOT NULL,
    callback_next_at timestamp with time zone,
    callback_status integer DEFAULT 0 NOT NULL,
    callback_error text DEFAULT ''::text NOT NULL,
    version bigint DEFAULT 1 NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT async_requests_callback_state_check CHECK ((callback_state = ANY (ARRAY[''::text, 'pending'::text, 'delivered'::text, 'failed'::text]))),
    CONSTRAINT async_requests_state_check CHECK ((state = ANY (ARRAY['queued'::text, 'running'::text, 'retrying'::text, 'succeeded'::text, 'failed'::text, 'dead'::text, 'cancelled'::text])))
);


--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    id text NOT NULL COLLATE pg_catalog."C",
    client_id text NOT NULL COLLATE pg_catalog."C",
    at timestamp with time zone NOT NULL,
    actor_id text NOT NULL COLLATE pg_catalog."C",
    actor_name text NOT NULL,
    token_id text DEFAULT ''::text NOT NULL COLLATE pg_catalog."C",
    via text NOT NULL,
    remote_addr text DEFAULT ''::text NOT NULL,
    request_id text DEFAULT ''::text NOT NULL,
    action text NOT NULL,
    resource_type text NOT NULL,
    resource_id text NOT NULL COLLATE pg_catalog."C",
    resource_name text DEFAULT ''::text NOT NULL,
    changes jsonb DEFAULT '[]'::jsonb NOT NULL
);


--
-- Name: change_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.change_version (
    id smallint NOT NULL,
    version bigint NOT NULL,
    CONSTRAINT change_version_id_check CHECK ((id = 1))
);


--
-- Name: clients; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.clients (
    id text NOT NULL COLLATE pg_catalog."C",
    name text NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: credential_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.credential_tokens (
    credential_id text NOT NULL COLLATE pg_catalog."C",
    version text DEFAULT ''::text NOT NULL,
    token_sealed bytea,
    token_expires_at timestamp with time zone,
    refresh_sealed bytea,
    refresh_base text DEFAULT ''::text NOT NULL,
    lease_owner text,
    lease_until timestamp with time zone,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: credentials; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.credentials (
    id text NOT NULL COLLATE pg_catalog."C",
    client_id text NOT NULL COLLATE pg_catalog."C",
    name text NOT NULL,
    type text NOT NULL,
    auth_type text NOT NULL,
    region text NOT NULL,
    config jsonb,
    secret_sealed bytea,
    secret_hash bytea,
    prev_secret_hash bytea,
    prev_secret_until timestamp with time zone,
    default_rule_effect text NOT NULL,
    expires_at timestamp with time zone,
    temporary boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT credentials_type_check CHECK ((type = ANY (ARRAY['proxy'::text, 'target'::text])))
);


--
-- Name: invites; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.invites (
    id text NOT NULL COLLATE pg_catalog."C",
    client_id text NOT NULL COLLATE pg_catalog."C",
    token_hash bytea NOT NULL,
    email text DEFAULT ''::text NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    roles text[] DEFAULT '{}'::text[] NOT NULL,
    created_by text DEFAULT ''::text NOT NULL COLLATE pg_catalog."C",
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    accepted_at timestamp with time zone,
    accepted_by text DEFAULT ''::text NOT NULL COLLATE pg_catalog."C"
);


--
-- Name: memberships; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.memberships (
    client_id text NOT NULL COLLATE pg_catalog."C",
    user_id text NOT NULL COLLATE pg_catalog."C",
    roles text[] DEFAULT '{}'::text[] NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.meta (
    key text NOT NULL,
    value text NOT NULL
);


--
-- Name: notification_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_deliveries (
    id text NOT NULL COLLATE pg_catalog."C",
    client_id text NOT NULL COLLATE pg_catalog."C",
    notification_id text NOT NULL COLLATE pg_catalog."C",
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    done boolean DEFAULT false NOT NULL,
    last_error text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: notification_webhooks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_webhooks (
    client_id text NOT NULL COLLATE pg_catalog."C",
    url text NOT NULL,
    secret_sealed bytea NOT NULL,
    active boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: notifications; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notifications (
    id text NOT NULL COLLATE pg_catalog."C",
    scope text NOT NULL,
    scope_id text NOT NULL COLLATE pg_catalog."C",
    kind text NOT NULL,
    title text NOT NULL,
    message text NOT NULL,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    dedup_key text,
    created_at timestamp with time zone NOT NULL,
    read_at timestamp with time zone,
    CONSTRAINT notifications_scope_check CHECK ((scope = ANY (ARRAY['system'::text, 'client'::text, 'user'::text])))
);


--
-- Name: oauth2_authorizations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth2_authorizations (
    state_hash bytea NOT NULL,
    credential_id text NOT NULL COLLATE pg_catalog."C",
    client_id text NOT NULL COLLATE pg_catalog."C",
    verifier_sealed bytea,
    redirect_uri text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);


--
-- Name: proxies; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.proxies (
    id text NOT NULL COLLATE pg_catalog."C",
    client_id text NOT NULL COLLATE pg_catalog."C",
    name text NOT NULL,
    active boolean NOT NULL,
    region text NOT NULL,
    proxy_credential_id text NOT NULL COLLATE pg_catalog."C",
    target_id text NOT NULL COLLATE pg_catalog."C",
    target_credential_id text NOT NULL COLLATE pg_catalog."C",
    default_rule_effect text NOT NULL,
    max_requests_per_minute bigint DEFAULT 0 NOT NULL,
    max_requests_per_day bigint DEFAULT 0 NOT NULL,
    async_max_retries integer,
    async_retry_window_seconds integer,
    async_attempt_timeout_seconds integer,
    async_callback_origins text[] DEFAULT '{}'::text[] NOT NULL,
    cors_origins text[] DEFAULT '{}'::text[] NOT NULL,
    webhook_secret_sealed bytea,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    log_bodies boolean DEFAULT false NOT NULL
);


--
-- Name: request_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.request_log (
    seq bigint NOT NULL,
    id text NOT NULL COLLATE pg_catalog."C",
    proxy_id text NOT NULL COLLATE pg_catalog."C",
    client_id text NOT NULL COLLATE pg_catalog."C",
    kind text DEFAULT 'sync'::text NOT NULL,
    processed boolean NOT NULL,
    processed_at timestamp with time zone NOT NULL,
    status integer NOT NULL,
    state text DEFAULT ''::text NOT NULL,
    entry text NOT NULL,
    request_body bytea,
    response_body bytea
);


--
-- Name: request_log_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.request_log ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.request_log_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: rollups; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rollups (
    scope text NOT NULL,
    scope_id text NOT NULL COLLATE pg_catalog."C",
    bucket text NOT NULL,
    start_at timestamp with time zone NOT NULL,
    requests bigint DEFAULT 0 NOT NULL,
    status_2xx bigint DEFAULT 0 NOT NULL,
    status_4xx bigint DEFAULT 0 NOT NULL,
    status_5xx bigint DEFAULT 0 NOT NULL,
    denied bigint DEFAULT 0 NOT NULL,
    limited bigint DEFAULT 0 NOT NULL,
    total_hist bytea DEFAULT '\x'::bytea NOT NULL,
    overhead_hist bytea DEFAULT '\x'::bytea NOT NULL,
    upstream_hist bytea DEFAULT '\x'::bytea NOT NULL,
    CONSTRAINT rollups_bucket_check CHECK ((bucket = ANY (ARRAY['minute'::text, 'hour'::text, 'day'::text]))),
    CONSTRAINT rollups_scope_check CHECK ((scope = ANY (ARRAY['proxy'::text, 'client'::text])))
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone NOT NULL
);


--
-- Name: targets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.targets (
    id text NOT NULL COLLATE pg_catalog."C",
    client_id text NOT NULL COLLATE pg_catalog."C",
    name text NOT NULL,
    base_url text NOT NULL,
    test_path text NOT NULL,
    region text NOT NULL,
    default_rule_effect text NOT NULL,
    timeout_seconds integer NOT NULL,
    idle_timeout_seconds integer NOT NULL,
    headers jsonb DEFAULT '{}'::jsonb NOT NULL,
    max_response_bytes bigint NOT NULL,
    tls jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tokens (
    id text NOT NULL COLLATE pg_catalog."C",
    user_id text NOT NULL COLLATE pg_catalog."C",
    name text NOT NULL,
    hash bytea NOT NULL,
    hint text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_used_at timestamp with time zone,
    expires_at timestamp with time zone
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id text NOT NULL COLLATE pg_catalog."C",
    name text NOT NULL,
    password_hash text DEFAULT ''::text NOT NULL,
    instance_admin boolean DEFAULT false NOT NULL,
    password_changed_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Data for Name: async_leaders; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: async_requests; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit_log VALUES ('aud_dump', 'cli_dump', '2025-01-02 03:04:05.678+00', 'usr_dump', 'dump-admin', 'tok_dump', 'api', '127.0.0.1', 'rid', 'updated', 'proxy', 'prx_dump', 'vendor', '[{"new": false, "old": true, "field": "proxyActive"}, {"field": "secret", "redacted": true}]');


--
-- Data for Name: change_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.change_version VALUES (1, 5);


--
-- Data for Name: clients; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.clients VALUES ('cli_dump', 'dump client', '{"allowedRegions": ["local"], "requestsPerMinute": 60}', '2025-01-02 03:04:05.678+00', '2025-01-02 03:04:05.678+00');


--
-- Data for Name: credential_tokens; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.credential_tokens VALUES ('cred_dump_t', 'v-dump', '\x7365616c656400746f6b656e', '2025-01-02 04:04:05.678+00', '\x7365616c65640072656672657368', 'base-dump', 'dump-node', '2124-12-09 03:04:05.678+00', '2025-01-02 03:04:05.678+00');


--
-- Data for Name: credentials; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.credentials VALUES ('cred_dump_p', 'cli_dump', 'caller', 'proxy', 'apiKey', 'local', '{"headerName": "Authorization"}', NULL, '\x090807', '\x06', '2025-01-03 03:04:05.678+00', 'allow', NULL, false, '2025-01-02 03:04:05.678+00', '2025-01-02 03:04:05.678+00');
INSERT INTO public.credentials VALUES ('cred_dump_t', 'cli_dump', 'vendor', 'target', 'bearer', 'local', NULL, '\x7365616c6564006279746573', NULL, NULL, NULL, 'deny', NULL, false, '2025-01-02 03:04:05.678+00', '2025-01-02 03:04:05.678+00');


--
-- Data for Name: invites; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.invites VALUES ('inv_dump', 'cli_dump', '\x010203fe', 'ann@example.com', 'ann', '{admin}', 'usr_dump', '2025-01-02 03:04:05.678+00', '2025-01-09 03:04:05.678+00', '2025-01-02 04:04:05.678+00', 'usr_dump');


--
-- Data for Name: memberships; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.memberships VALUES ('cli_dump', 'usr_dump', '{owner}', '2025-01-02 03:04:05.678+00');


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('master_key_fingerprint', 'dump-fingerprint');


--
-- Data for Name: notification_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: notification_webhooks; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: notifications; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: oauth2_authorizations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.oauth2_authorizations VALUES ('\xdead0001', 'cred_dump_t', 'cli_dump', '\x7365616c6564007665726966696572', 'https://keyway.example/oauth2/callback', '2025-01-02 03:04:05.678+00', '2025-01-02 04:04:05.678+00');


--
-- Data for Name: proxies; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.proxies VALUES ('prx_dump', 'cli_dump', 'vendor', true, 'local', 'cred_dump_p', 'tgt_dump', 'cred_dump_t', 'allow', 60, 0, 3, NULL, NULL, '{https://app.example.com}', '{https://app.example.com}', '\x7768736563', '2025-01-02 03:04:05.678+00', '2025-01-02 03:04:05.678+00', false);


--
-- Data for Name: request_log; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: rollups; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES (1, 'init', '2026-11-27 00:06:22.316+00');
INSERT INTO public.schema_migrations VALUES (3, 'credential_flows', '2026-11-27 00:06:22.323+00');
INSERT INTO public.schema_migrations VALUES (4, 'monitoring', '2026-11-27 00:06:22.343+00');
INSERT INTO public.schema_migrations VALUES (5, 'async', '2026-11-27 00:06:22.354+00');
INSERT INTO public.schema_migrations VALUES (6, 'teams', '2026-11-27 00:06:22.363+00');


--
-- Data for Name: targets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.targets VALUES ('tgt_dump', 'cli_dump', 'vendor api', 'https://api.example.com/v1', '/ping', 'local', 'allow', 30, 60, '{"Accept": "application/json"}', 6291456, '{"serverName": "api.internal"}', '2025-01-02 03:04:05.678+00', '2025-01-02 03:04:05.678+00');


--
-- Data for Name: tokens; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tokens VALUES ('tok_dump', 'usr_dump', 'ci', '\x000102ff', '…dump', '2025-01-02 03:04:05.678+00', NULL, '2025-01-03 03:04:05.678+00');


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.users VALUES ('usr_dump', 'dump-admin', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', true, '2025-01-02 03:04:05.678+00', '2025-01-02 03:04:05.678+00', '2025-01-02 03:04:05.678+00');


--
-- Name: request_log_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.request_log_seq_seq', 1, false);


--
-- Name: async_leaders async_leaders_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.async_leaders
    ADD CONSTRAINT async_leaders_pkey PRIMARY KEY (name);


--
-- Name: async_requests async_requests_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.async_requests
    ADD CONSTRAINT async_requests_pkey PRIMARY KEY (id);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: change_version change_version_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.change_version
    ADD CONSTRAINT change_version_pkey PRIMARY KEY (id);


--
-- Name: clients clients_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT clients_pkey PRIMARY KEY (id);


--
-- Name: credential_tokens credential_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credential_tokens
    ADD CONSTRAINT credential_tokens_pkey PRIMARY KEY (credential_id);


--
-- Name: credentials credentials_client_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credentials
    ADD CONSTRAINT credentials_client_id_id_key UNIQUE (client_id, id);


--
-- Name: credentials credentials_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credentials
    ADD CONSTRAINT credentials_pkey PRIMARY KEY (id);


--
-- Name: invites invites_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invites
    ADD CONSTRAINT invites_pkey PRIMARY KEY (id);


--
-- Name: invites invites_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invites
    ADD CONSTRAINT invites_token_hash_key UNIQUE (token_hash);


--
-- Name: memberships memberships_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (client_id, user_id);


--
-- Name: meta meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);


--
-- Name: notification_deliveries notification_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_pkey PRIMARY KEY (id);


--
-- Name: notification_webhooks notification_webhooks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_webhooks
    ADD CONSTRAINT notification_webhooks_pkey PRIMARY KEY (client_id);


--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);


--
-- Name: oauth2_authorizations oauth2_authorizations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth2_authorizations
    ADD CONSTRAINT oauth2_authorizations_pkey PRIMARY KEY (state_hash);


--
-- Name: proxies proxies_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.proxies
    ADD CONSTRAINT proxies_pkey PRIMARY KEY (id);


--
-- Name: request_log request_log_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.request_log
    ADD CONSTRAINT request_log_id_key UNIQUE (id);


--
-- Name: request_log request_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.request_log
    ADD CONSTRAINT request_log_pkey PRIMARY KEY (seq);


--
-- Name: rollups rollups_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rollups
    ADD CONSTRAINT rollups_pkey PRIMARY KEY (scope, scope_id, bucket, start_at);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: targets targets_client_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.targets
    ADD CONSTRAINT targets_client_id_id_key UNIQUE (client_id, id);


--
-- Name: targets targets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.targets
    ADD CONSTRAINT targets_pkey PRIMARY KEY (id);


--
-- Name: tokens tokens_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_hash_key UNIQUE (hash);


--
-- Name: tokens tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_pkey PRIMARY KEY (id);


--
-- Name: users users_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_name_key UNIQUE (name);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: async_requests_callback_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX async_requests_callback_idx ON public.async_requests USING btree (callback_next_at) WHERE (callback_state = 'pending'::text);


--
-- Name: async_requests_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX async_requests_due_idx ON public.async_requests USING btree (next_attempt_at, id) WHERE (state = ANY (ARRAY['queued'::text, 'retrying'::text]));


--
-- Name: async_requests_idempotency_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX async_requests_idempotency_idx ON public.async_requests USING btree (proxy_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);


--
-- Name: async_requests_lease_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX async_requests_lease_idx ON public.async_requests USING btree (lease_until) WHERE (state = 'running'::text);


--
-- Name: async_requests_owner_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX async_requests_owner_idx ON public.async_requests USING btree (lease_owner) WHERE (state = 'running'::text);


--
-- Name: async_requests_processed_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX async_requests_processed_idx ON public.async_requests USING btree (processed_at) WHERE (processed_at IS NOT NULL);


--
-- Name: async_requests_proxy_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX async_requests_proxy_idx ON public.async_requests USING btree (client_id, proxy_id, state);


--
-- Name: audit_log_client_actor_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_log_client_actor_idx ON public.audit_log USING btree (client_id, actor_id, at, id);


--
-- Name: audit_log_client_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_log_client_at_idx ON public.audit_log USING btree (client_id, at, id);


--
-- Name: audit_log_client_resource_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_log_client_resource_idx ON public.audit_log USING btree (client_id, resource_type, resource_id, at, id);


--
-- Name: clients_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX clients_created_at_idx ON public.clients USING btree (created_at, id);


--
-- Name: credentials_client_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credentials_client_created_idx ON public.credentials USING btree (client_id, created_at, id);


--
-- Name: credentials_expires_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credentials_expires_idx ON public.credentials USING btree (expires_at) WHERE (expires_at IS NOT NULL);


--
-- Name: invites_client_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX invites_client_created_idx ON public.invites USING btree (client_id, created_at, id);


--
-- Name: memberships_user_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX memberships_user_id_idx ON public.memberships USING btree (user_id);


--
-- Name: notification_deliveries_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notification_deliveries_due_idx ON public.notification_deliveries USING btree (done, next_attempt_at);


--
-- Name: notification_deliveries_notification_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notification_deliveries_notification_idx ON public.notification_deliveries USING btree (notification_id);


--
-- Name: notifications_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_created_idx ON public.notifications USING btree (created_at);


--
-- Name: notifications_dedup_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX notifications_dedup_idx ON public.notifications USING btree (scope, scope_id, dedup_key) WHERE (dedup_key IS NOT NULL);


--
-- Name: notifications_scope_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_scope_idx ON public.notifications USING btree (scope, scope_id, created_at, id);


--
-- Name: oauth2_authorizations_credential_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX oauth2_authorizations_credential_idx ON public.oauth2_authorizations USING btree (credential_id);


--
-- Name: oauth2_authorizations_expires_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX oauth2_authorizations_expires_idx ON public.oauth2_authorizations USING btree (expires_at);


--
-- Name: proxies_client_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX proxies_client_created_idx ON public.proxies USING btree (client_id, created_at, id);


--
-- Name: proxies_proxy_credential_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX proxies_proxy_credential_idx ON public.proxies USING btree (client_id, proxy_credential_id);


--
-- Name: proxies_target_credential_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX proxies_target_credential_idx ON public.proxies USING btree (client_id, target_credential_id);


--
-- Name: proxies_target_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX proxies_target_idx ON public.proxies USING btree (client_id, target_id);


--
-- Name: request_log_processed_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX request_log_processed_idx ON public.request_log USING btree (processed_at);


--
-- Name: request_log_proxy_processed_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX request_log_proxy_processed_idx ON public.request_log USING btree (proxy_id, processed_at, id);


--
-- Name: rollups_bucket_start_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX rollups_bucket_start_idx ON public.rollups USING btree (bucket, start_at);


--
-- Name: targets_client_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX targets_client_created_idx ON public.targets USING btree (client_id, created_at, id);


--
-- Name: tokens_user_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX tokens_user_id_idx ON public.tokens USING btree (user_id, created_at);


--
-- Name: credential_tokens credential_tokens_credential_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credential_tokens
    ADD CONSTRAINT credential_tokens_credential_id_fkey FOREIGN KEY (credential_id) REFERENCES public.credentials(id) ON DELETE CASCADE;


--
-- Name: credentials credentials_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.credentials
    ADD CONSTRAINT credentials_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE RESTRICT;


--
-- Name: invites invites_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invites
    ADD CONSTRAINT invites_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: memberships memberships_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: memberships memberships_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: notification_deliveries notification_deliveries_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.notification_webhooks(client_id) ON DELETE CASCADE;


--
-- Name: notification_deliveries notification_deliveries_notification_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_deliveries
    ADD CONSTRAINT notification_deliveries_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES public.notifications(id) ON DELETE CASCADE;


--
-- Name: notification_webhooks notification_webhooks_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_webhooks
    ADD CONSTRAINT notification_webhooks_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE CASCADE;


--
-- Name: oauth2_authorizations oauth2_authorizations_credential_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth2_authorizations
    ADD CONSTRAINT oauth2_authorizations_credential_id_fkey FOREIGN KEY (credential_id) REFERENCES public.credentials(id) ON DELETE CASCADE;


--
-- Name: proxies proxies_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.proxies
    ADD CONSTRAINT proxies_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE RESTRICT;


--
-- Name: proxies proxies_client_id_proxy_credential_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.proxies
    ADD CONSTRAINT proxies_client_id_proxy_credential_id_fkey FOREIGN KEY (client_id, proxy_credential_id) REFERENCES public.credentials(client_id, id) ON DELETE RESTRICT;


--
-- Name: proxies proxies_client_id_target_credential_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.proxies
    ADD CONSTRAINT proxies_client_id_target_credential_id_fkey FOREIGN KEY (client_id, target_credential_id) REFERENCES public.credentials(client_id, id) ON DELETE RESTRICT;


--
-- Name: proxies proxies_client_id_target_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.proxies
    ADD CONSTRAINT proxies_client_id_target_id_fkey FOREIGN KEY (client_id, target_id) REFERENCES public.targets(client_id, id) ON DELETE RESTRICT;


--
-- Name: targets targets_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.targets
    ADD CONSTRAINT targets_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id) ON DELETE RESTRICT;


--
-- Name: tokens tokens_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


