-- A covering index for the due list of a cycle (`Store::due_accounts`): pending accounts in
-- owner/username order with their end date, read without touching the table.
CREATE INDEX accounts_due ON accounts (state, owner_id, username, ends_at);
