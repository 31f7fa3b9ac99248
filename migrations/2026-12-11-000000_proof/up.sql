-- The proof screenshot delivered with a restore alert (PNG), kept until the alert is sent.
ALTER TABLE outbox ADD COLUMN photo BLOB;
