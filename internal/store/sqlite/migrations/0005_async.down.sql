DROP TABLE async_leaders;
DROP TABLE async_requests;
