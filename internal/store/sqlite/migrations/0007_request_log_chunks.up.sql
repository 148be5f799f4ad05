-- 0007 request log chunks: the request log writer stores each batch of a
-- proxy's entries as one row (store.EncodeLogChunks), so a logged request
-- costs a share of one insert rather than a row and three index entries
-- of its own. request_log stays for entries written one by one and for
-- the rows written before this migration; reads merge both.
CREATE TABLE request_log_chunks (
    seq       INTEGER PRIMARY KEY,
    proxy_id  TEXT NOT NULL,
    client_id TEXT NOT NULL,
    first_at  INTEGER NOT NULL, -- least processed_at of the entries (ms)
    last_at   INTEGER NOT NULL, -- greatest processed_at (ms)
    min_id    TEXT NOT NULL,
    max_id    TEXT NOT NULL,
    entries   INTEGER NOT NULL CHECK (entries > 0),
    statuses  INTEGER NOT NULL, -- bit n: an entry of status class n
    data      BLOB NOT NULL
) STRICT;

-- first_at and min_id are in the indexes so the lists' and the id
-- lookup's other conditions are checked without reading the rows.
CREATE INDEX request_log_chunks_proxy_idx ON request_log_chunks (proxy_id, last_at, first_at);
CREATE INDEX request_log_chunks_id_idx ON request_log_chunks (proxy_id, max_id, min_id);
CREATE INDEX request_log_chunks_last_idx ON request_log_chunks (last_at);
