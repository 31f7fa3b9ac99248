-- Reverts the initial schema (children before parents).
DROP TABLE outbox;
DROP TABLE cycles;
DROP TABLE settings;
DROP TABLE instagram_sessions;
DROP TABLE proxies;
DROP TABLE rapidapi_keys;
DROP TABLE probes;
DROP TABLE accounts;
DROP TABLE users;
