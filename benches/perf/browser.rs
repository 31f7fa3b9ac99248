//! P2: browser probes with real Chromium over chromedriver against the fake profile page: one
//! reused WebDriver session versus a new session per probe (what the old bot did), and the
//! throughput of three checkers, each with its own session.

use crate::support::chrome::ChromeDriver;
use crate::support::fake_instagram::{Behavior, FakeInstagram};
use igwatch::check::{BrowserOptions, BrowserSession};
use igwatch::domain::{Username, Verdict};
use std::time::{Duration, Instant};
use url::Url;

/// What P2 measured.
pub struct BrowserRun {
    pub reused: Vec<Duration>,
    pub fresh: Vec<Duration>,
    /// Probes per minute of three sessions probing side by side.
    pub per_minute_3: f64,
}

fn options(driver: &ChromeDriver) -> BrowserOptions {
    BrowserOptions {
        webdriver_url: driver.url(),
        proxy: None,
        page_load_timeout: Duration::from_secs(20),
        lang: "en-US".to_owned(),
    }
}

async fn probe(session: &mut BrowserSession, base: &Url, name: &Username) -> Result<(), String> {
    let probe = session
        .probe(base, name, &[])
        .await
        .map_err(|e| e.to_string())?;
    if !matches!(probe.verdict, Verdict::Exists { .. }) || probe.screenshot.is_none() {
        return Err(format!("unexpected browser verdict: {probe:?}"));
    }
    Ok(())
}

/// `reused` probes on one session (after one warm-up), `fresh` probes each on a new session
/// (connect + probe + quit), and three sessions doing `each` probes concurrently.
pub fn run(reused: usize, fresh: usize, each: usize) -> Result<BrowserRun, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let fake = FakeInstagram::start();
        let name = Username::parse("alice").map_err(|e| format!("{e:?}"))?;
        fake.set("alice", Behavior::Exists { private: false });
        let base = Url::parse(&fake.url()).map_err(|e| e.to_string())?;
        let driver = ChromeDriver::start().await;
        let opts = options(&driver);

        let mut session = BrowserSession::connect(&opts)
            .await
            .map_err(|e| e.to_string())?;
        probe(&mut session, &base, &name).await?;
        let mut reused_times = Vec::new();
        for _ in 0..reused {
            let t = Instant::now();
            probe(&mut session, &base, &name).await?;
            reused_times.push(t.elapsed());
        }
        session.quit().await;

        let mut fresh_times = Vec::new();
        for _ in 0..fresh {
            let t = Instant::now();
            let mut session = BrowserSession::connect(&opts)
                .await
                .map_err(|e| e.to_string())?;
            let result = probe(&mut session, &base, &name).await;
            session.quit().await;
            result?;
            fresh_times.push(t.elapsed());
        }

        // Three checkers: sessions started (and warmed) first, as the daemon keeps them.
        let mut sessions = Vec::new();
        for _ in 0..3 {
            let mut s = BrowserSession::connect(&opts)
                .await
                .map_err(|e| e.to_string())?;
            probe(&mut s, &base, &name).await?;
            sessions.push(s);
        }
        let t = Instant::now();
        let results = futures_util::future::join_all(sessions.iter_mut().map(|s| {
            let (base, name) = (&base, &name);
            async move {
                for _ in 0..each {
                    probe(s, base, name).await?;
                }
                Ok::<(), String>(())
            }
        }))
        .await;
        let took = t.elapsed();
        for s in sessions {
            s.quit().await;
        }
        results.into_iter().collect::<Result<Vec<()>, String>>()?;
        let per_minute_3 = (3 * each) as f64 / took.as_secs_f64() * 60.0;
        Ok(BrowserRun {
            reused: reused_times,
            fresh: fresh_times,
            per_minute_3,
        })
    })
}
