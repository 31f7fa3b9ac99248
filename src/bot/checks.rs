//! "Check now": asks the dispatcher to probe some of an owner's pending accounts in the
//! background, and a `CheckReporter` actor per run that shows the progress in ONE message
//! edited in place (at most once a second), then the summary. The bot never waits for probes.

use super::env::{BotError, Ctx, Env};
use super::router::{Answer, Toast};
use super::texts::{fill, ui, username_error, verdict_name};
use crate::actors::messages::{CheckNow, CheckProgress};
use crate::domain::{AccountId, AccountState, Lang, UserId, Username};
use crate::telegram::reason_name;
use actix::prelude::*;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Shortest gap between two progress edits.
const EDIT_EVERY: Duration = Duration::from_secs(1);
/// A run that never reports `done` is given up after this long.
const GIVE_UP: Duration = Duration::from_secs(3600);

/// What the reporter shows.
enum Report {
    /// One message "checked n/N…", edited in place, ending with the summary.
    Progress { message: i32 },
    /// Only the summary when done (accounts just added in bulk).
    Summary,
    /// One account: its verdict when done.
    Single { account: AccountId, name: Username },
}

/// Reports one check-now run to its chat; stops after `done`.
pub struct CheckReporter {
    env: Rc<Env>,
    chat: UserId,
    lang: Lang,
    report: Report,
    last_edit: Option<Instant>,
    latest: CheckProgress,
    flush_scheduled: bool,
}

impl CheckReporter {
    fn new(env: Rc<Env>, chat: UserId, lang: Lang, report: Report) -> Self {
        CheckReporter {
            env,
            chat,
            lang,
            report,
            last_edit: None,
            latest: CheckProgress::default(),
            flush_scheduled: false,
        }
    }

    fn counts(&self, template: &str) -> String {
        let p = self.latest;
        fill(
            template,
            &[
                ("checked", &p.checked.to_string()),
                ("total", &p.total.to_string()),
                ("restored", &p.restored.to_string()),
                ("unknown", &p.unknown.to_string()),
            ],
        )
    }

    fn edit(&mut self, ctx: &mut Context<Self>, html: String) {
        let Report::Progress { message } = self.report else {
            return;
        };
        self.last_edit = Some(Instant::now());
        let (env, chat) = (self.env.clone(), self.chat);
        ctx.wait(
            async move {
                if let Err(err) = env.client.edit(chat, message, &html, None).await {
                    log::warn!("Could not update the check progress of chat={chat}: {err}.");
                }
            }
            .into_actor(self),
        );
    }

    /// The last report: the summary (or verdict), sent from a detached task because the
    /// actor stops now (stopping drops the actor's own futures).
    fn finish(&mut self, ctx: &mut Context<Self>) {
        let t = ui(self.lang);
        let p = self.latest;
        let (env, chat, lang) = (self.env.clone(), self.chat, self.lang);
        match &self.report {
            Report::Progress { message } => {
                let text = if p.total == 0 {
                    fill(t.check_nothing, &[])
                } else {
                    self.counts(t.check_done)
                };
                let message = *message;
                actix::spawn(async move {
                    if let Err(err) = env.client.edit(chat, message, &text, None).await {
                        log::warn!("Could not show the check summary to chat={chat}: {err}.");
                    }
                });
            }
            Report::Summary => {
                let text = self.counts(t.check_done);
                actix::spawn(async move {
                    if let Err(err) = env.client.send(chat, &text, None).await {
                        log::warn!("Could not send a check summary to chat={chat}: {err}.");
                    }
                });
            }
            Report::Single { account, name } if p.total > 0 => {
                let (account, name) = (*account, name.clone());
                actix::spawn(async move {
                    if let Err(err) = single_result(&env, chat, lang, account, &name).await {
                        log::warn!("Could not send a check result to chat={chat}: {err}.");
                    }
                });
            }
            Report::Single { .. } => {}
        }
        ctx.stop();
    }
}

async fn single_result(
    env: &Env,
    chat: UserId,
    lang: Lang,
    account: AccountId,
    name: &Username,
) -> Result<(), BotError> {
    let Some(account) = env.db(move |s| s.owned_account(chat, account)).await? else {
        return Ok(());
    };
    let mut verdict = account
        .last_verdict
        .as_deref()
        .map_or(ui(lang).verdict_unknown, |v| verdict_name(lang, v))
        .to_owned();
    if let Some(reason) = account.last_reason {
        verdict.push_str(&format!(" ({})", reason_name(lang, reason)));
    }
    let text = fill(
        ui(lang).check_one_result,
        &[("name", name.as_str()), ("verdict", &verdict)],
    );
    env.client.send(chat, &text, None).await?;
    Ok(())
}

impl Actor for CheckReporter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_later(GIVE_UP, |_, ctx| ctx.stop());
    }
}

impl Handler<CheckProgress> for CheckReporter {
    type Result = ();

    fn handle(&mut self, progress: CheckProgress, ctx: &mut Self::Context) {
        self.latest = progress;
        if progress.done {
            self.finish(ctx);
            return;
        }
        if self.flush_scheduled || !matches!(self.report, Report::Progress { .. }) {
            return;
        }
        let wait = self
            .last_edit
            .map_or(Duration::ZERO, |at| EDIT_EVERY.saturating_sub(at.elapsed()));
        self.flush_scheduled = true;
        ctx.run_later(wait, |act, ctx| {
            act.flush_scheduled = false;
            let text = act.counts(ui(act.lang).check_progress);
            act.edit(ctx, text);
        });
    }
}

/// Starts a run; `false` when the dispatcher refused it (shutting down).
async fn run(
    ctx: &Ctx,
    accounts: Option<Vec<AccountId>>,
    report: Report,
) -> Result<bool, BotError> {
    let reporter = CheckReporter::new(ctx.env.clone(), ctx.chat(), ctx.lang(), report).start();
    let request = CheckNow {
        owner: ctx.chat(),
        accounts,
        progress: reporter.clone().recipient(),
    };
    match ctx.env.peers.check_now.send(request).await? {
        Ok(queued) => {
            log::info!("Chat={} started a check of {queued} accounts.", ctx.chat());
            Ok(true)
        }
        Err(reason) => {
            log::warn!(
                "The dispatcher refused a check for chat={}: {reason}.",
                ctx.chat()
            );
            Ok(false)
        }
    }
}

/// The background check of an account just added (or "check now" on its card).
pub async fn start_single(ctx: &Ctx, account: AccountId, name: Username) -> Result<(), BotError> {
    if !run(ctx, Some(vec![account]), Report::Single { account, name }).await? {
        ctx.say(ctx.t().check_unavailable).await?;
    }
    Ok(())
}

/// The background check of accounts just added in bulk: a summary when done.
pub async fn start_batch(ctx: &Ctx, accounts: Vec<AccountId>) -> Result<(), BotError> {
    if !run(ctx, Some(accounts), Report::Summary).await? {
        ctx.say(ctx.t().check_unavailable).await?;
    }
    Ok(())
}

/// `/check` (every pending account, with a progress message) or `/check name`.
pub async fn check_command(ctx: &Ctx, name: Option<&str>) -> Result<(), BotError> {
    let t = ctx.t();
    if let Some(text) = name {
        let username = match Username::parse(text) {
            Ok(username) => username,
            Err(err) => {
                let reason = username_error(ctx.lang(), &err);
                ctx.say(&fill(
                    t.invalid_username,
                    &[("input", text), ("reason", reason)],
                ))
                .await?;
                return Ok(());
            }
        };
        let (owner, lookup) = (ctx.chat(), username.clone());
        let account = ctx.db(move |s| s.account_by_name(owner, &lookup)).await?;
        return match account {
            Some(a) if a.state == AccountState::Pending => {
                ctx.say(&fill(
                    t.check_progress,
                    &[
                        ("checked", "0"),
                        ("total", "1"),
                        ("restored", "0"),
                        ("unknown", "0"),
                    ],
                ))
                .await?;
                start_single(ctx, a.id, a.username).await
            }
            Some(_) => {
                ctx.say(t.check_nothing).await?;
                Ok(())
            }
            None => {
                ctx.say(t.gone).await?;
                Ok(())
            }
        };
    }
    let waiting = fill(
        t.check_progress,
        &[
            ("checked", "0"),
            ("total", "…"),
            ("restored", "0"),
            ("unknown", "0"),
        ],
    );
    let message = ctx.say(&waiting).await?;
    if !run(ctx, None, Report::Progress { message }).await? {
        ctx.env
            .client
            .edit(ctx.chat(), message, t.check_unavailable, None)
            .await?;
    }
    Ok(())
}

/// "Check now" on an account card.
pub async fn check_one(ctx: &Ctx, id: AccountId) -> Answer {
    let owner = ctx.chat();
    let Some(account) = ctx.db(move |s| s.owned_account(owner, id)).await? else {
        return Ok(Toast::alert(ctx.t().gone));
    };
    if account.state != AccountState::Pending {
        return Ok(Toast::new(ctx.t().check_nothing));
    }
    let text = fill(
        ctx.t().check_started,
        &[("name", account.username.as_str())],
    );
    start_single(ctx, id, account.username).await?;
    Ok(Toast::new(crate::telegram::strip_tags(&text)))
}
