-- 0007 request log chunks, reverted (the chunked entries go with it).
DROP TABLE request_log_chunks;
