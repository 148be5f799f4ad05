-- 0007 request log chunks: the request log writer stores each batch of a
-- proxy's entries as one row (store.EncodeLogChunks). Matches SQLite's
-- 0007; times are Unix milliseconds, as the chunk's entries keep them.
CREATE TABLE request_log_chunks (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    proxy_id  text COLLATE "C" NOT NULL,
    client_id text COLLATE "C" NOT NULL,
    first_at  bigint NOT NULL,
    last_at   bigint NOT NULL,
    min_id    text COLLATE "C" NOT NULL,
    max_id    text COLLATE "C" NOT NULL,
    entries   integer NOT NULL CHECK (entries > 0),
    statuses  bigint NOT NULL,
    data      bytea NOT NULL
);

-- Lists read chunks in (last_at, seq) order, a few at a time; first_at and
-- min_id are in the indexes so the other conditions are checked without
-- reading the rows.
CREATE INDEX request_log_chunks_proxy_idx ON request_log_chunks (proxy_id, last_at, seq, first_at);
CREATE INDEX request_log_chunks_id_idx ON request_log_chunks (proxy_id, max_id, min_id);
CREATE INDEX request_log_chunks_last_idx ON request_log_chunks (last_at);
