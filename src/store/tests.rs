//! Store tests on a real temporary SQLite file (migrations, pragmas, transactions, concurrency).

use super::*;
use crate::domain::{
    AccountId, AccountState, CycleStats, Lang, Mode, Notice, OutboxId, ProbeEffect, ProfileFacts,
    Role, Source, UnknownReason, UserId, Username, Verdict,
};
use chrono::{TimeDelta, TimeZone};
use diesel::sql_types::{BigInt, Integer};
use secrecy::{ExposeSecret, SecretString};
use tempfile::TempDir;

const ALICE: UserId = UserId(100);
const BOB: UserId = UserId(200);

fn open_with(dir: &TempDir, history: u32, cipher: Option<SecretCipher>) -> Store {
    Store::open(
        &dir.path().join("nested/igwatch.db"),
        Duration::from_millis(5000),
        history,
        cipher,
    )
    .unwrap()
}

fn open(dir: &TempDir) -> Store {
    open_with(dir, 10, Some(SecretCipher::new([42; 32])))
}

/// 2026-12-03 00:00:00 UTC plus `secs`.
fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap() + TimeDelta::seconds(secs)
}

const DAY: i64 = 86_400;

fn name(s: &str) -> Username {
    Username::parse(s).unwrap()
}

fn store_with_user(dir: &TempDir, history: u32) -> Store {
    let store = open_with(dir, history, Some(SecretCipher::new([42; 32])));
    store
        .upsert_user(ALICE, Role::User, true, Lang::En, Mode::Api, t(0))
        .unwrap();
    store
}

fn add_one(store: &Store, owner: UserId, username: &str, days: u32) -> AccountId {
    store
        .add_accounts(owner, &[name(username)], days, t(0))
        .unwrap();
    account(store, owner, username).id
}

fn account(store: &Store, owner: UserId, username: &str) -> Account {
    store
        .accounts(&AccountFilter {
            owner: Some(owner),
            state: None,
        })
        .unwrap()
        .into_iter()
        .find(|a| a.username.as_str() == username)
        .unwrap()
}

fn exists(private: bool) -> Verdict {
    Verdict::Exists {
        private,
        facts: ProfileFacts::default(),
    }
}

fn probe(ids: &[AccountId], verdict: Verdict, at: DateTime<Utc>, required: u32) -> ProbeRecord {
    ProbeRecord {
        accounts: ids.to_vec(),
        verdict,
        sources: vec![Source::Rapidapi, Source::Browser],
        rule: Some("test_rule".to_owned()),
        at,
        confirmations_required: required,
        proof: None,
    }
}

fn outbox_kinds(store: &Store) -> Vec<(i64, String)> {
    use super::schema::outbox;
    outbox::table
        .order(outbox::id)
        .select((outbox::chat_id, outbox::kind))
        .load(&mut *store.conn().unwrap())
        .unwrap()
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = Integer)]
    foreign_keys: i32,
}

#[derive(QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = BigInt)]
    timeout: i64,
}

#[derive(QueryableByName)]
struct Synchronous {
    #[diesel(sql_type = Integer)]
    synchronous: i32,
}

#[derive(QueryableByName)]
struct CacheSize {
    #[diesel(sql_type = BigInt)]
    cache_size: i64,
}

/// Regression (found by the 30-minute soak): ten minutes in, r2d2 closed the idle connections
/// and opened new ones (its defaults for network databases), and the daemon's resident set
/// stepped up by 6.5 MiB; it also pinged every connection before each use. Connections to the
/// file are now kept for good and used without a ping.
#[test]
fn connections_are_neither_recycled_nor_pinged_before_use() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    assert_eq!(store.pool.idle_timeout(), None);
    assert_eq!(store.pool.max_lifetime(), None);
    assert!(!store.pool.test_on_check_out());
}

#[test]
fn open_applies_migrations_and_connection_pragmas() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    assert!(store.path().ends_with("nested/igwatch.db"));
    assert!(store.path().exists());
    assert_eq!(store.integrity_check().unwrap(), "ok");
    // Every pooled connection carries the per-connection settings.
    let mut conns: Vec<_> = (0..POOL_SIZE).map(|_| store.conn().unwrap()).collect();
    for conn in &mut conns {
        let mode: JournalMode = diesel::sql_query("PRAGMA journal_mode")
            .get_result(&mut **conn)
            .unwrap();
        assert_eq!(mode.journal_mode, "wal");
        let fk: ForeignKeys = diesel::sql_query("PRAGMA foreign_keys")
            .get_result(&mut **conn)
            .unwrap();
        assert_eq!(fk.foreign_keys, 1);
        let busy: BusyTimeout = diesel::sql_query("PRAGMA busy_timeout")
            .get_result(&mut **conn)
            .unwrap();
        assert_eq!(busy.timeout, 5000);
        let sync: Synchronous = diesel::sql_query("PRAGMA synchronous")
            .get_result(&mut **conn)
            .unwrap();
        assert_eq!(sync.synchronous, 1, "NORMAL");
        let cache: CacheSize = diesel::sql_query("PRAGMA cache_size")
            .get_result(&mut **conn)
            .unwrap();
        assert_eq!(cache.cache_size, -i64::from(CACHE_KIB), "KiB");
    }
    drop(conns);
    // Reopening finds nothing left to migrate and keeps the data.
    store.set_setting("interval", "5m").unwrap();
    drop(store);
    let again = open(&dir);
    assert_eq!(again.setting("interval").unwrap().as_deref(), Some("5m"));
    assert_eq!(again.setting("missing").unwrap(), None);
    again.set_setting("interval", "10m").unwrap();
    assert_eq!(again.setting("interval").unwrap().as_deref(), Some("10m"));
}

#[test]
fn users_upsert_activate_and_admin_chats() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let created = store
        .upsert_user(ALICE, Role::User, false, Lang::Ru, Mode::ApiBrowser, t(0))
        .unwrap();
    assert_eq!(created.created_at, t(0));
    assert!(!created.active);
    let updated = store
        .upsert_user(ALICE, Role::Admin, true, Lang::En, Mode::Browser, t(50))
        .unwrap();
    assert_eq!(
        updated,
        User {
            id: ALICE,
            role: Role::Admin,
            active: true,
            lang: Lang::En,
            mode: Mode::Browser,
            created_at: t(0),
            no_session_notified: false,
        }
    );
    store
        .upsert_user(BOB, Role::Admin, false, Lang::En, Mode::Api, t(0))
        .unwrap();
    assert_eq!(store.users().unwrap().len(), 2);
    assert_eq!(store.user(UserId(1)).unwrap(), None);
    assert_eq!(
        store.admin_chats(&[UserId(7), ALICE]).unwrap(),
        vec![UserId(7), ALICE]
    );
    assert!(matches!(
        store.set_user_active(UserId(1), true),
        Err(StoreError::UnknownUser(UserId(1)))
    ));
}

#[test]
fn once_only_flags() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    assert!(store.mark_no_session_notified(ALICE).unwrap());
    assert!(!store.mark_no_session_notified(ALICE).unwrap());
    assert!(store.user(ALICE).unwrap().unwrap().no_session_notified);
    store.clear_no_session_notified(ALICE).unwrap();
    assert!(store.mark_no_session_notified(ALICE).unwrap());

    assert!(store.mark_quota_notified(ALICE, t(10)).unwrap());
    assert!(!store.mark_quota_notified(ALICE, t(DAY - 1)).unwrap());
    assert!(store.mark_quota_notified(ALICE, t(DAY)).unwrap());
}

#[test]
fn add_accounts_reports_duplicates_and_needs_an_owner() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    let report = store
        .add_accounts(ALICE, &[name("a.b"), name("c_d"), name("a.b")], 30, t(0))
        .unwrap();
    assert_eq!(report.added, vec![name("a.b"), name("c_d")]);
    assert_eq!(report.duplicates, vec![name("a.b")]);
    let again = store
        .add_accounts(ALICE, &[name("c_d"), name("e")], 30, t(5))
        .unwrap();
    assert_eq!(again.added, vec![name("e")]);
    assert_eq!(again.duplicates, vec![name("c_d")]);

    let a = account(&store, ALICE, "a.b");
    assert_eq!(a.state, AccountState::Pending);
    assert_eq!(a.started_at, t(0));
    assert_eq!(a.ends_at, t(30 * DAY));
    assert_eq!(a.period_days, 30);
    assert_eq!(a.confirmations, 0);
    assert_eq!(a.last_probe_at, None);

    assert!(matches!(
        store.add_accounts(BOB, &[name("x")], 30, t(0)),
        Err(StoreError::UnknownUser(BOB))
    ));
    let listed: Vec<String> = store
        .accounts(&AccountFilter::default())
        .unwrap()
        .into_iter()
        .map(|a| a.username.to_string())
        .collect();
    assert_eq!(listed, ["a.b", "c_d", "e"]);

    assert_eq!(
        store
            .remove_accounts(ALICE, &[name("a.b"), name("zz")])
            .unwrap(),
        1
    );
    assert_eq!(store.accounts(&AccountFilter::default()).unwrap().len(), 2);
}

#[test]
fn unknown_never_changes_state_and_is_recorded() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    let id = add_one(&store, ALICE, "target", 30);
    for reason in UnknownReason::ALL {
        let out = store
            .record_probe(&probe(&[id], Verdict::unknown(reason), t(60), 1))
            .unwrap();
        assert_eq!(out[0].effect, ProbeEffect::Recorded);
        let a = account(&store, ALICE, "target");
        assert_eq!(a.state, AccountState::Pending);
        assert_eq!(a.last_reason, Some(reason));
    }
    let a = account(&store, ALICE, "target");
    assert_eq!(a.last_verdict.as_deref(), Some("unknown"));
    assert_eq!(a.last_source, Some(Source::Browser));
    assert_eq!(a.last_probe_at, Some(t(60)));
    assert!(outbox_kinds(&store).is_empty());
}

#[test]
fn exists_restores_exactly_once_with_one_alert() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    store
        .upsert_user(BOB, Role::User, true, Lang::Ru, Mode::Api, t(0))
        .unwrap();
    let a = add_one(&store, ALICE, "target", 30);
    let b = add_one(&store, BOB, "target", 30);
    let out = store
        .record_probe(&probe(&[a, b, AccountId(999)], exists(true), t(3600), 1))
        .unwrap();
    assert_eq!(
        out,
        vec![
            Transition {
                account: a,
                owner: ALICE,
                effect: ProbeEffect::Restore
            },
            Transition {
                account: b,
                owner: BOB,
                effect: ProbeEffect::Restore
            },
        ]
    );
    let restored = account(&store, ALICE, "target");
    assert_eq!(restored.state, AccountState::Restored);
    assert_eq!(restored.restored_at, Some(t(3600)));
    assert_eq!(restored.confirmations, 1);

    let again = store
        .record_probe(&probe(&[a], exists(false), t(7200), 1))
        .unwrap();
    assert_eq!(again[0].effect, ProbeEffect::Recorded);
    assert_eq!(account(&store, ALICE, "target").restored_at, Some(t(3600)));

    assert_eq!(
        outbox_kinds(&store),
        vec![
            (ALICE.0, "restored".to_owned()),
            (BOB.0, "restored".to_owned())
        ]
    );
    let due = store.due_outbox(t(7200), 10).unwrap();
    assert_eq!(due.len(), 2);
    assert_eq!(due[0].chat, ALICE);
    assert_eq!(due[0].attempts, 0);
    assert_eq!(
        due[0].notice,
        Notice::Restored {
            account: a,
            username: name("target"),
            started_at: t(0),
            period_days: 30,
            restored_at: t(3600),
            ends_at: t(30 * DAY),
            private: true,
            sources: vec![Source::Rapidapi, Source::Browser],
        }
    );
    // Deleting the account takes its undelivered alert with it.
    store.remove_accounts(BOB, &[name("target")]).unwrap();
    assert_eq!(store.outbox_len().unwrap(), 1);
}

#[test]
fn two_confirmations_need_two_exists_and_not_found_resets() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    let id = add_one(&store, ALICE, "target", 30);
    let effect =
        |v: Verdict, s: i64| store.record_probe(&probe(&[id], v, t(s), 2)).unwrap()[0].effect;

    assert_eq!(
        effect(exists(false), 1),
        ProbeEffect::Confirming { so_far: 1 }
    );
    assert_eq!(account(&store, ALICE, "target").confirmations, 1);
    assert_eq!(
        effect(Verdict::unknown(UnknownReason::RateLimited), 2),
        ProbeEffect::Recorded
    );
    assert_eq!(account(&store, ALICE, "target").confirmations, 1);
    assert_eq!(
        effect(Verdict::NotFound, 3),
        ProbeEffect::ResetConfirmations
    );
    let a = account(&store, ALICE, "target");
    assert_eq!((a.state, a.confirmations), (AccountState::Pending, 0));
    assert_eq!(effect(Verdict::NotFound, 4), ProbeEffect::Recorded);
    assert_eq!(
        effect(exists(false), 5),
        ProbeEffect::Confirming { so_far: 1 }
    );
    assert!(outbox_kinds(&store).is_empty());
    assert_eq!(effect(exists(false), 6), ProbeEffect::Restore);
    let a = account(&store, ALICE, "target");
    assert_eq!(
        (a.state, a.confirmations, a.restored_at),
        (AccountState::Restored, 2, Some(t(6)))
    );
    assert_eq!(outbox_kinds(&store).len(), 1);
}

#[test]
fn history_is_trimmed_to_the_bound() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 3);
    let id = add_one(&store, ALICE, "target", 30);
    let other = add_one(&store, ALICE, "other", 30);
    store
        .record_probe(&probe(&[other], Verdict::NotFound, t(0), 1))
        .unwrap();
    for s in 1..=7 {
        store
            .record_probe(&probe(&[id], Verdict::NotFound, t(s), 1))
            .unwrap();
    }
    let history = store.account_history(id, 100).unwrap();
    let times: Vec<_> = history.iter().map(|p| p.at).collect();
    assert_eq!(times, vec![t(7), t(6), t(5)]);
    assert_eq!(
        history[0],
        ProbeRow {
            at: t(7),
            verdict: "not_found".to_owned(),
            reason: None,
            sources: vec![Source::Rapidapi, Source::Browser],
            rule: Some("test_rule".to_owned()),
        }
    );
    assert_eq!(store.account_history(id, 2).unwrap().len(), 2);
    assert_eq!(store.account_history(other, 100).unwrap().len(), 1);
}

#[test]
fn a_corrupt_stored_username_fails_the_due_list_as_a_corrupt_row() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    let id = add_one(&store, ALICE, "fine", 30);
    diesel::sql_query("UPDATE accounts SET username = 'Not..Canonical' WHERE id = ?")
        .bind::<BigInt, _>(id.0)
        .execute(&mut *store.conn().unwrap())
        .unwrap();
    match store.due_accounts(t(100)) {
        Err(StoreError::CorruptRow(what)) => assert!(what.starts_with("username:"), "{what}"),
        other => panic!("expected a corrupt row, got {other:?}"),
    }
}

#[test]
fn due_accounts_and_expiry() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    store
        .upsert_user(BOB, Role::User, false, Lang::Ru, Mode::Browser, t(0))
        .unwrap();
    let short = add_one(&store, ALICE, "short", 1);
    let long = add_one(&store, ALICE, "long", 30);
    let done = add_one(&store, ALICE, "done", 1);
    let bobs = add_one(&store, BOB, "bobs", 1);
    store
        .record_probe(&probe(&[done], exists(false), t(10), 1))
        .unwrap();

    let due = store.due_accounts(t(100)).unwrap();
    assert_eq!(
        due,
        vec![
            DueAccount {
                account: long,
                owner: ALICE,
                username: name("long"),
                mode: Mode::Api
            },
            DueAccount {
                account: short,
                owner: ALICE,
                username: name("short"),
                mode: Mode::Api
            },
        ]
    );
    // At the end of the period the account is no longer due, and expires.
    assert_eq!(store.due_accounts(t(DAY)).unwrap().len(), 1);
    assert_eq!(store.expire_overdue(t(DAY - 1)).unwrap(), vec![]);
    let expired = store.expire_overdue(t(DAY)).unwrap();
    assert_eq!(expired, vec![short, bobs]);
    assert_eq!(account(&store, ALICE, "short").state, AccountState::Expired);
    assert_eq!(account(&store, BOB, "bobs").state, AccountState::Expired);
    assert_eq!(account(&store, ALICE, "done").state, AccountState::Restored);
    assert_eq!(store.expire_overdue(t(DAY + 5)).unwrap(), vec![]);
    // Only the active owner is told.
    let due = store.due_outbox(t(DAY), 10).unwrap();
    let expiries: Vec<_> = due
        .iter()
        .filter(|i| matches!(i.notice, Notice::Expired { .. }))
        .collect();
    assert_eq!(expiries.len(), 1);
    assert_eq!(expiries[0].chat, ALICE);
    assert_eq!(
        expiries[0].notice,
        Notice::Expired {
            account: short,
            username: name("short"),
            started_at: t(0),
            period_days: 1,
        }
    );
    assert_eq!(
        store
            .accounts(&AccountFilter {
                owner: None,
                state: Some(AccountState::Expired)
            })
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn cycles_store_stats_and_queue_digests() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    let cycle = store.begin_cycle(t(0)).unwrap();
    let stats = CycleStats {
        checked: 3,
        ..CycleStats::default()
    };
    let digest = Notice::Digest {
        cycle,
        stats: stats.clone(),
    };
    store
        .finish_cycle(cycle, &stats, &[(UserId(7), digest.clone())], t(30))
        .unwrap();
    let due = store.due_outbox(t(30), 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].chat, &due[0].notice), (UserId(7), &digest));
    assert_ne!(store.begin_cycle(t(60)).unwrap(), cycle);
}

/// Regression (found by the 30-minute soak): with the digest on and a cycle ending every
/// second, digests to an admin came faster than the notifier may write to one chat (once a
/// second plus its margin), and the outbox grew by a row every 20 s without end. A newer
/// digest now replaces one still waiting, and nothing else.
#[test]
fn digests_do_not_pile_up_when_cycles_end_faster_than_one_message_a_second() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    let stats = CycleStats::default();
    let digest = |cycle| Notice::Digest {
        cycle,
        stats: stats.clone(),
    };
    let first = store.begin_cycle(t(0)).unwrap();
    store
        .finish_cycle(
            first,
            &stats,
            &[(UserId(7), digest(first)), (UserId(8), digest(first))],
            t(1),
        )
        .unwrap();
    store
        .enqueue(&[(UserId(7), Notice::QuotaExhausted)], t(1))
        .unwrap();
    let second = store.begin_cycle(t(2)).unwrap();
    store
        .finish_cycle(second, &stats, &[(UserId(7), digest(second))], t(3))
        .unwrap();
    let due: Vec<(UserId, Notice)> = store
        .due_outbox(t(3), 10)
        .unwrap()
        .into_iter()
        .map(|i| (i.chat, i.notice))
        .collect();
    assert_eq!(due.len(), 3, "{due:?}");
    assert!(due.contains(&(UserId(7), digest(second))));
    assert!(due.contains(&(UserId(7), Notice::QuotaExhausted)));
    assert!(
        due.contains(&(UserId(8), digest(first))),
        "another chat keeps its own"
    );
    assert!(!due.contains(&(UserId(7), digest(first))));
}

#[test]
fn only_the_newest_cycles_are_kept() {
    use super::cycles::CYCLES_KEPT;
    use super::schema::cycles;
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let stats = CycleStats::default();
    for i in 0..CYCLES_KEPT + 5 {
        let cycle = store.begin_cycle(t(i)).unwrap();
        store.finish_cycle(cycle, &stats, &[], t(i)).unwrap();
    }
    let kept: i64 = cycles::table
        .count()
        .get_result(&mut store.conn().unwrap())
        .unwrap();
    assert_eq!(kept, CYCLES_KEPT);
}

#[test]
fn outbox_reschedule_deliver_and_deactivation() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    store
        .upsert_user(BOB, Role::User, true, Lang::Ru, Mode::Api, t(0))
        .unwrap();
    assert_eq!(store.next_outbox_due().unwrap(), None);
    store
        .enqueue(
            &[
                (ALICE, Notice::QuotaExhausted),
                (BOB, Notice::NoSession { accounts: 2 }),
                (ALICE, Notice::NoSession { accounts: 1 }),
            ],
            t(10),
        )
        .unwrap();
    assert_eq!(store.outbox_len().unwrap(), 3);
    assert_eq!(store.next_outbox_due().unwrap(), Some(t(10)));
    assert!(store.due_outbox(t(9), 10).unwrap().is_empty());

    let due = store.due_outbox(t(10), 10).unwrap();
    let ids: Vec<OutboxId> = due.iter().map(|i| i.id).collect();
    store
        .outbox_reschedule(ids[0], t(100), "429 retry after 90")
        .unwrap();
    let due = store.due_outbox(t(10), 10).unwrap();
    assert_eq!(
        due.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![ids[1], ids[2]]
    );
    store.outbox_delivered(ids[1]).unwrap();
    let later = store.due_outbox(t(100), 1).unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].id, ids[2], "ordered by due time, then id");
    let later = store.due_outbox(t(100), 10).unwrap();
    assert_eq!(later[1].id, ids[0]);
    assert_eq!(later[1].attempts, 1);
    assert_eq!(later[1].created_at, t(10));

    // Deactivation drops only that chat's queue, in the same transaction.
    assert_eq!(store.set_user_active(ALICE, false).unwrap(), 2);
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert!(!store.user(ALICE).unwrap().unwrap().active);
    assert_eq!(store.set_user_active(ALICE, true).unwrap(), 0);
    store
        .enqueue(&[(BOB, Notice::QuotaExhausted)], t(20))
        .unwrap();
    assert_eq!(store.outbox_drop_chat(BOB).unwrap(), 1);
}

#[test]
fn unreadable_outbox_rows_are_dropped() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    store
        .enqueue(&[(ALICE, Notice::QuotaExhausted)], t(0))
        .unwrap();
    diesel::sql_query("UPDATE outbox SET payload = '{\"kind\":\"gone\"}'")
        .execute(&mut *store.conn().unwrap())
        .unwrap();
    assert!(store.due_outbox(t(0), 10).unwrap().is_empty());
    assert_eq!(store.outbox_len().unwrap(), 0);
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[test]
fn rapidapi_keys_rotate_under_the_daily_limit() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 10);
    store
        .upsert_user(BOB, Role::User, true, Lang::Ru, Mode::Api, t(0))
        .unwrap();
    let k1 = store
        .add_rapidapi_key(ALICE, &secret("alice-key-one-0000000001"), t(0))
        .unwrap();
    let k2 = store
        .add_rapidapi_key(ALICE, &secret("alice-key-two-0000000002"), t(0))
        .unwrap();
    let kb = store
        .add_rapidapi_key(BOB, &secret("bob-key-00000000000000003"), t(0))
        .unwrap();
    let take = |owners: &[UserId], s: i64| {
        store
            .acquire_rapidapi_key(owners, 2, t(s))
            .unwrap()
            .map(|(id, key)| (id, key.expose_secret().to_owned()))
    };

    assert_eq!(
        take(&[ALICE, BOB], 1),
        Some((k1, "alice-key-one-0000000001".into()))
    );
    assert_eq!(take(&[ALICE, BOB], 2).unwrap().0, k1);
    assert_eq!(take(&[ALICE, BOB], 3).unwrap().0, k2, "limit reached");
    store.mark_rapidapi_key_exhausted(k2, t(4)).unwrap();
    assert_eq!(take(&[ALICE, BOB], 5).unwrap().0, kb, "next owner");
    assert_eq!(take(&[BOB, ALICE], 6).unwrap().0, kb, "owner order");
    assert_eq!(take(&[ALICE, BOB], 7), None);
    assert_eq!(take(&[], 8), None);

    let infos = store.rapidapi_keys(ALICE, t(9)).unwrap();
    assert_eq!(
        infos,
        vec![
            KeyInfo {
                id: k1,
                owner: ALICE,
                hint: "alic…0001".into(),
                used_today: 2,
                exhausted_today: false
            },
            KeyInfo {
                id: k2,
                owner: ALICE,
                hint: "alic…0002".into(),
                used_today: 1,
                exhausted_today: true
            },
        ]
    );

    // A new UTC day resets counters and exhaustion.
    let infos = store.rapidapi_keys(ALICE, t(DAY)).unwrap();
    assert!(
        infos
            .iter()
            .all(|k| k.used_today == 0 && !k.exhausted_today)
    );
    assert_eq!(take(&[ALICE], DAY).unwrap().0, k1);
    assert_eq!(take(&[ALICE], DAY + 1).unwrap().0, k1);
    assert_eq!(take(&[ALICE], DAY + 2).unwrap().0, k2);
    assert_eq!(store.rapidapi_keys(ALICE, t(DAY)).unwrap()[0].used_today, 2);

    assert!(
        !store.remove_rapidapi_key(BOB, k1).unwrap(),
        "not Bob's key"
    );
    assert!(store.remove_rapidapi_key(ALICE, k1).unwrap());
    assert_eq!(store.rapidapi_keys(ALICE, t(DAY)).unwrap().len(), 1);
    assert!(matches!(
        store.add_rapidapi_key(UserId(5), &secret("x"), t(0)),
        Err(StoreError::UnknownUser(UserId(5)))
    ));
}

#[test]
fn secrets_are_never_stored_in_plaintext() {
    let dir = TempDir::new().unwrap();
    let plain = open_with(&dir, 10, None);
    plain
        .upsert_user(ALICE, Role::User, true, Lang::En, Mode::Api, t(0))
        .unwrap();
    assert!(matches!(
        plain.add_rapidapi_key(ALICE, &secret("plaintext-key-123456789"), t(0)),
        Err(StoreError::NoCipher)
    ));
    drop(plain);

    let store = open(&dir);
    let key = "SuperSecretRapidKey-0123456789abcdef";
    store.add_rapidapi_key(ALICE, &secret(key), t(0)).unwrap();
    let needle = &key.as_bytes()[4..key.len() - 4];
    for entry in std::fs::read_dir(store.path().parent().unwrap()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }
    drop(store);
    // A store opened with the wrong master key cannot use it.
    let wrong = open_with(&dir, 10, Some(SecretCipher::new([1; 32])));
    assert!(matches!(
        wrong.acquire_rapidapi_key(&[ALICE], 10, t(0)),
        Err(StoreError::Crypto(_))
    ));
    assert_eq!(wrong.rapidapi_keys(ALICE, t(0)).unwrap()[0].used_today, 0);
}

#[test]
fn concurrent_writers_do_not_hit_database_is_locked() {
    let dir = TempDir::new().unwrap();
    let store = store_with_user(&dir, 5);
    let ids: Vec<AccountId> = (0..4)
        .map(|i| add_one(&store, ALICE, &format!("acc{i}"), 30))
        .collect();
    let threads: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(n, &id)| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    store
                        .record_probe(&probe(&[id], Verdict::NotFound, t(i), 1))
                        .unwrap();
                    store
                        .enqueue(&[(ALICE, Notice::QuotaExhausted)], t(i))
                        .unwrap();
                    store.set_setting(&format!("k{n}"), &i.to_string()).unwrap();
                    store.due_accounts(t(i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.outbox_len().unwrap(), 200);
    for id in ids {
        assert_eq!(store.account_history(id, 100).unwrap().len(), 5);
    }
    assert_eq!(store.integrity_check().unwrap(), "ok");
}
