-- igwatch initial schema. Timestamps are INTEGER unix seconds (UTC); days are TEXT `YYYY-MM-DD` (UTC).

CREATE TABLE users (
    id INTEGER PRIMARY KEY NOT NULL, -- the Telegram user id, also the private chat id
    role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    active BOOLEAN NOT NULL,
    language TEXT NOT NULL,
    mode TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    no_session_notified BOOLEAN NOT NULL DEFAULT 0,
    quota_notified_on TEXT
);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    period_days BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'restored', 'expired', 'paused')),
    restored_at BIGINT,
    last_probe_at BIGINT,
    last_verdict TEXT,
    last_reason TEXT,
    last_source TEXT,
    confirmations BIGINT NOT NULL DEFAULT 0,
    UNIQUE (owner_id, username)
);
CREATE INDEX accounts_state_username ON accounts (state, username);

CREATE TABLE probes (
    id INTEGER PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT,
    source TEXT NOT NULL, -- comma-separated sources, e.g. `rapidapi,browser`
    rule TEXT
);
CREATE INDEX probes_account ON probes (account_id, id);

CREATE TABLE rapidapi_keys (
    id INTEGER PRIMARY KEY NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_enc BLOB NOT NULL,
    key_hint TEXT NOT NULL,
    used_today BIGINT NOT NULL DEFAULT 0,
    usage_day TEXT NOT NULL,
    exhausted_day TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX rapidapi_keys_owner ON rapidapi_keys (owner_id, id);

CREATE TABLE proxies (
    id INTEGER PRIMARY KEY NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scheme TEXT NOT NULL,
    host TEXT NOT NULL,
    port BIGINT NOT NULL,
    username TEXT,
    password_enc BLOB,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    priority BIGINT NOT NULL DEFAULT 0,
    fail_streak BIGINT NOT NULL DEFAULT 0,
    cooldown_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX proxies_owner ON proxies (owner_id, id);

CREATE TABLE instagram_sessions (
    id INTEGER PRIMARY KEY NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cookies_enc BLOB NOT NULL,
    label TEXT NOT NULL,
    valid BOOLEAN NOT NULL DEFAULT 1,
    invalid_notified BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX instagram_sessions_owner ON instagram_sessions (owner_id, id);

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE cycles (
    id INTEGER PRIMARY KEY NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    stats_json TEXT
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY NOT NULL,
    chat_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL, -- JSON of domain::Notice
    account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id);
CREATE INDEX outbox_chat ON outbox (chat_id);
CREATE INDEX outbox_account ON outbox (account_id);
