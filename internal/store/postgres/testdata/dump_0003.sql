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
    updated_at timestamp with time zone NOT NULL
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
-- Data for Name: memberships; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.memberships VALUES ('cli_dump', 'usr_dump', '{owner}', '2025-01-02 03:04:05.678+00');


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('master_key_fingerprint', 'dump-fingerprint');


--
-- Data for Name: oauth2_authorizations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.oauth2_authorizations VALUES ('\xdead0001', 'cred_dump_t', 'cli_dump', '\x7365616c6564007665726966696572', 'https://keyway.example/oauth2/callback', '2025-01-02 03:04:05.678+00', '2025-01-02 04:04:05.678+00');


--
-- Data for Name: proxies; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.proxies VALUES ('prx_dump', 'cli_dump', 'vendor', true, 'local', 'cred_dump_p', 'tgt_dump', 'cred_dump_t', 'allow', 60, 0, 3, NULL, NULL, '{https://app.example.com}', '{https://app.example.com}', '\x7768736563', '2025-01-02 03:04:05.678+00', '2025-01-02 03:04:05.678+00');


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES (1, 'init', '2026-11-26 23:23:44.563+00');
INSERT INTO public.schema_migrations VALUES (3, 'credential_flows', '2026-11-26 23:23:44.619+00');


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
-- Name: clients_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX clients_created_at_idx ON public.clients USING btree (created_at, id);


--
-- Name: credentials_client_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX credentials_client_created_idx ON public.credentials USING btree (client_id, created_at, id);


--
-- Name: memberships_user_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX memberships_user_id_idx ON public.memberships USING btree (user_id);


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


