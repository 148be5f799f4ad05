-- 0001 init, reverted: children before parents so foreign keys never object.
DROP TABLE proxies;
DROP TABLE targets;
DROP TABLE credentials;
DROP TABLE tokens;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE clients;
DROP TABLE change_version;
DROP TABLE meta;
