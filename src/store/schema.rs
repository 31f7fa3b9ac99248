//! Diesel table definitions, written by hand to match `migrations/` (timestamps are unix seconds).

diesel::table! {
    users (id) {
        id -> BigInt,
        role -> Text,
        active -> Bool,
        language -> Text,
        mode -> Text,
        created_at -> BigInt,
        no_session_notified -> Bool,
        quota_notified_on -> Nullable<Text>,
    }
}

diesel::table! {
    accounts (id) {
        id -> BigInt,
        owner_id -> BigInt,
        username -> Text,
        period_days -> BigInt,
        started_at -> BigInt,
        ends_at -> BigInt,
        state -> Text,
        restored_at -> Nullable<BigInt>,
        last_probe_at -> Nullable<BigInt>,
        last_verdict -> Nullable<Text>,
        last_reason -> Nullable<Text>,
        last_source -> Nullable<Text>,
        confirmations -> BigInt,
    }
}

diesel::table! {
    probes (id) {
        id -> BigInt,
        account_id -> BigInt,
        at -> BigInt,
        verdict -> Text,
        reason -> Nullable<Text>,
        source -> Text,
        rule -> Nullable<Text>,
    }
}

diesel::table! {
    rapidapi_keys (id) {
        id -> BigInt,
        owner_id -> BigInt,
        key_enc -> Binary,
        key_hint -> Text,
        used_today -> BigInt,
        usage_day -> Text,
        exhausted_day -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    proxies (id) {
        id -> BigInt,
        owner_id -> BigInt,
        scheme -> Text,
        host -> Text,
        port -> BigInt,
        username -> Nullable<Text>,
        password_enc -> Nullable<Binary>,
        enabled -> Bool,
        priority -> BigInt,
        fail_streak -> BigInt,
        cooldown_until -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    instagram_sessions (id) {
        id -> BigInt,
        owner_id -> BigInt,
        cookies_enc -> Binary,
        label -> Text,
        valid -> Bool,
        invalid_notified -> Bool,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    cycles (id) {
        id -> BigInt,
        started_at -> BigInt,
        finished_at -> Nullable<BigInt>,
        stats_json -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        chat_id -> BigInt,
        kind -> Text,
        payload -> Text,
        account_id -> Nullable<BigInt>,
        attempts -> BigInt,
        next_attempt_at -> BigInt,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        photo -> Nullable<Binary>,
    }
}

diesel::joinable!(accounts -> users (owner_id));
diesel::joinable!(probes -> accounts (account_id));
diesel::joinable!(rapidapi_keys -> users (owner_id));
diesel::joinable!(proxies -> users (owner_id));
diesel::joinable!(instagram_sessions -> users (owner_id));
diesel::joinable!(outbox -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    accounts,
    probes,
    rapidapi_keys,
    proxies,
    instagram_sessions,
    settings,
    cycles,
    outbox,
);
