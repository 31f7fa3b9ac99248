-- The Telegram bot: who a user is on Telegram, persisted conversations, false alarms and the
-- daily expiry reminders already sent.

CREATE TABLE bot_profiles (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,  -- first and last name as Telegram gave them (shown escaped)
    handle TEXT          -- the Telegram @username, without the @
);

CREATE TABLE bot_conversations (
    chat_id INTEGER PRIMARY KEY NOT NULL,
    state TEXT NOT NULL, -- JSON of bot::Conversation
    updated_at BIGINT NOT NULL
);

CREATE TABLE false_alarms (
    id INTEGER PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    restored_at BIGINT,
    evidence TEXT NOT NULL -- JSON: the probes that restored the account, newest first
);
CREATE INDEX false_alarms_account ON false_alarms (account_id);

CREATE TABLE expiry_reminders (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    PRIMARY KEY (account_id, day)
);
