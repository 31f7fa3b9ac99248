//! The supervisor: the only place that knows every actor, their start order and wiring, and shutdown.

use crate::actors::messages::{
    Drain, FlushOutbox, GetDispatcherStatus, GetSchedule, StopTicking, WithStore,
};
use crate::actors::{
    CheckerFactory, DispatcherActor, FaultHook, NotifierActor, StoreActor, TickActor,
};
use crate::check::{BudgetConfig, EgressPool, KeySource};
use crate::config::Config;
use crate::domain::{KeyId, Notice, UserId};
use crate::metrics::{HealthCheck, Metrics, MetricsError};
use crate::notify;
use crate::secret::SecretCipher;
use crate::store::{Store, StoreError};
use crate::telegram::BotClient;
use actix::prelude::*;
use chrono::Utc;
use futures_util::future::LocalBoxFuture;
use secrecy::SecretString;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// How long shutdown waits for in-flight probes and the outbox flush, each.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(8);

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("failed to open the database: {0}")]
    Store(#[from] StoreError),
    #[error("failed to set up the Telegram client: {0}")]
    Telegram(String),
    #[error("failed to wait for signals: {0}")]
    Signals(#[from] std::io::Error),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// Test-only seams; production passes `Hooks::default()`.
#[derive(Default, Clone)]
pub struct Hooks {
    pub faults: Option<Rc<dyn FaultHook>>,
}

/// Addresses of the running actors.
pub struct Daemon {
    pub metrics: Arc<Metrics>,
    pub store: Addr<StoreActor>,
    pub notifier: Addr<NotifierActor>,
    pub dispatcher: Addr<DispatcherActor>,
    pub tick: Addr<TickActor>,
    /// The Telegram poller; `None` in local mode (no token).
    pub bot: Option<Addr<crate::actors::BotActor>>,
    /// Notified when an admin confirms "restart" in the bot: shut down and exit with the
    /// restart exit code.
    pub restart: Arc<tokio::sync::Notify>,
    /// Queues the daily expiry reminder.
    pub reminder: Addr<crate::actors::ReminderActor>,
}

/// Opens the database with the configured key (secrets are refused without one).
pub fn open_store(config: &Config) -> Result<Store, StoreError> {
    let cipher = config.secret_key_bytes().map(SecretCipher::new);
    Store::open(
        &config.database.path,
        config.database.busy_timeout,
        config.database.history_per_account,
        cipher,
    )
}

impl Daemon {
    /// Starts every actor on the current actix system. Order: store, notifier, dispatcher
    /// (which starts its checkers), then the scheduler, so the first tick finds everyone up.
    pub fn start(config: Arc<Config>, store: Store, hooks: Hooks) -> Result<Daemon, AppError> {
        let client = match &config.telegram.token {
            Some(token) => Some(
                BotClient::new(token, &config.telegram.api_url)
                    .map_err(|e| AppError::Telegram(e.to_string()))?,
            ),
            None => None,
        };
        let metrics = Metrics::new()?;
        let store = StoreActor::start(store);
        let bot_client = client.clone();
        let notifier = {
            let (config, metrics, store) = (config.clone(), metrics.clone(), store.clone());
            Supervisor::start(move |_| NotifierActor::new(config, metrics, store, client))
        };
        let factory = CheckerFactory {
            config: config.clone(),
            metrics: metrics.clone(),
            egress: Arc::new(EgressPool::new(BudgetConfig::from_config(&config.egress))),
            keys: Arc::new(StoreKeys {
                store: store.clone(),
                daily_limit: config.rapidapi.daily_limit,
            }),
            faults: hooks.faults,
        };
        let dispatcher = {
            let (config, store, notifier) =
                (config.clone(), store.clone(), notifier.clone().recipient());
            DispatcherActor::new(config, store, notifier, factory).start()
        };
        let tick = {
            let (dispatcher, store) = (dispatcher.clone().recipient(), store.clone());
            let (interval, on_start) = (config.scheduler.interval, config.scheduler.run_on_start);
            Supervisor::start(move |_| TickActor::new(interval, on_start, dispatcher, store))
        };
        let restart = Arc::new(tokio::sync::Notify::new());
        let bot = bot_client.map(|client| {
            let peers = crate::bot::Peers {
                check_now: dispatcher.clone().recipient(),
                set_interval: tick.clone().recipient(),
                schedule: tick.clone().recipient(),
                dispatcher_status: dispatcher.clone().recipient(),
                restart: restart.clone(),
            };
            let (config, store) = (config.clone(), store.clone());
            Supervisor::start(move |_| crate::actors::BotActor::new(config, store, client, peers))
        });
        let reminder = {
            let (config, store, notifier) =
                (config.clone(), store.clone(), notifier.clone().recipient());
            Supervisor::start(move |_| crate::actors::ReminderActor::new(config, store, notifier))
        };
        let daemon = Daemon {
            metrics,
            store,
            notifier,
            dispatcher,
            tick,
            bot,
            restart,
            reminder,
        };
        if let Some(addr) = config.metrics.listen {
            let (metrics, health) = (daemon.metrics.clone(), daemon.health_check());
            actix::spawn(async move {
                if let Err(err) = crate::metrics::serve(addr, metrics, health).await {
                    log::error!("The metrics listener on {addr} failed: {err}.");
                }
            });
        }
        Ok(daemon)
    }

    /// Tells systemd we are ready, then pings its watchdog, but only while the actor system is
    /// healthy: a wedged scheduler or dispatcher lets the watchdog restart the service.
    fn tell_systemd(&self) {
        if let Err(err) = notify::ready() {
            log::warn!("Could not tell systemd we are ready: {err}.");
        }
        let Some(every) = notify::watchdog_interval() else {
            return;
        };
        let health = self.health_check();
        actix::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            loop {
                ticker.tick().await;
                if !health().await {
                    log::error!(
                        "The scheduler or dispatcher stopped answering; not pinging the watchdog."
                    );
                    continue;
                }
                if let Err(err) = notify::watchdog_ping() {
                    log::warn!("Could not ping the systemd watchdog: {err}.");
                }
            }
        });
    }

    /// Healthy while the scheduler and the dispatcher answer within a second and the dispatcher
    /// still accepts cycles.
    pub fn health_check(&self) -> HealthCheck {
        let (tick, dispatcher) = (self.tick.clone(), self.dispatcher.clone());
        Arc::new(move || {
            let (tick, dispatcher) = (tick.clone(), dispatcher.clone());
            Box::pin(async move {
                let limit = Duration::from_secs(1);
                let tick_ok = tick.send(GetSchedule).timeout(limit).await.is_ok();
                let dispatcher_ok = matches!(
                    dispatcher.send(GetDispatcherStatus).timeout(limit).await,
                    Ok(status) if !status.draining
                );
                tick_ok && dispatcher_ok
            })
        })
    }

    /// Graceful stop: no more ticks, in-flight probes finish (bounded), the outbox gets one
    /// last delivery pass (bounded).
    pub async fn shutdown(&self, wait: Duration) {
        let _ = self.tick.send(StopTicking).await;
        let _ = self.dispatcher.send(Drain(wait)).await;
        if tokio::time::timeout(wait, self.notifier.send(FlushOutbox))
            .await
            .is_err()
        {
            log::warn!("The outbox flush did not finish in time; the rest is sent after restart.");
        }
    }
}

/// How the daemon ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// SIGTERM or SIGINT.
    Stopped,
    /// An admin asked for a restart: exit with the code systemd restarts on.
    Restart,
}

/// `igwatch run`: starts the daemon and runs until SIGTERM or SIGINT (or a restart request).
pub fn run(config: Config) -> Result<Exit, AppError> {
    let system = System::new();
    let result = system.block_on(async move {
        let config = Arc::new(config);
        let store = open_store(&config)?;
        log::info!(
            "igwatch {} starting: database {}, {} checkers, provider {:?}.",
            env!("CARGO_PKG_VERSION"),
            config.database.path.display(),
            config.checkers.count,
            config.instagram.provider
        );
        let daemon = Daemon::start(config, store, Hooks::default())?;
        daemon.tell_systemd();
        let exit = tokio::select! {
            signal = wait_for_signal() => {
                signal?;
                Exit::Stopped
            }
            () = daemon.restart.notified() => {
                log::info!("An admin asked for a restart.");
                Exit::Restart
            }
        };
        log::info!("Shutting down: finishing in-flight probes.");
        if let Err(err) = notify::stopping() {
            log::warn!("Could not tell systemd we are stopping: {err}.");
        }
        daemon.shutdown(SHUTDOWN_WAIT).await;
        log::info!("Stopped.");
        Ok(exit)
    });
    System::current().stop();
    result
}

async fn wait_for_signal() -> Result<(), std::io::Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => log::info!("Received SIGTERM."),
        _ = int.recv() => log::info!("Received SIGINT."),
    }
    Ok(())
}

/// RapidAPI keys through the StoreActor; an exhausted pool tells the owners once per UTC day.
struct StoreKeys {
    store: Addr<StoreActor>,
    daily_limit: u32,
}

impl KeySource for StoreKeys {
    fn acquire(
        &self,
        owners: Vec<UserId>,
    ) -> LocalBoxFuture<'static, Result<Option<(KeyId, SecretString)>, String>> {
        let limit = self.daily_limit;
        let op = WithStore::new(move |s| {
            let now = Utc::now();
            let key = s.acquire_rapidapi_key(&owners, limit, now)?;
            if key.is_none() {
                for owner in &owners {
                    if s.mark_quota_notified(*owner, now)? {
                        s.enqueue(&[(*owner, Notice::QuotaExhausted)], now)?;
                    }
                }
            }
            Ok(key)
        });
        let store = self.store.clone();
        Box::pin(async move {
            match store.send(op).await {
                Ok(result) => result.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
    }

    fn exhausted(&self, key: KeyId) -> LocalBoxFuture<'static, Result<(), String>> {
        let store = self.store.clone();
        Box::pin(async move {
            match store
                .send(WithStore::new(move |s| {
                    s.mark_rapidapi_key_exhausted(key, Utc::now())
                }))
                .await
            {
                Ok(result) => result.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}
