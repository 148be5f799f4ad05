-- 0004 monitoring, reverted.
DROP INDEX credentials_expires_idx;
DROP TABLE notification_deliveries;
DROP TABLE notification_webhooks;
DROP TABLE notifications;
DROP TABLE rollups;
DROP TABLE request_log;
ALTER TABLE proxies DROP COLUMN log_bodies;
