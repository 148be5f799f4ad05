-- 0006 teams, reverted.
DROP TABLE audit_log;
DROP TABLE invites;
