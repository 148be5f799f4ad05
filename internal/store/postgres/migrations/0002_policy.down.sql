-- 0002 policy, reverted.
DROP TABLE counters;
DROP TABLE meters;
DROP TABLE filters;
DROP TABLE rules;
DROP INDEX proxies_client_id_key;
