-- 0003 credential flows, reverted.
DROP TABLE credential_tokens;
DROP TABLE oauth2_authorizations;
