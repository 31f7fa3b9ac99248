//! A real chromedriver on a free loopback port for the browser tests: started, awaited, killed.
//!
//! chromedriver runs in its own process group so that [`ChromeDriver::kill`] (a crash) and drop
//! take the Chromium processes it started with it; no test leaves a browser behind.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

/// Debian's `chromium-driver` package.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long chromedriver may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Ports tried before giving up (another process may take the port between probe and bind).
const PORT_ATTEMPTS: u32 = 5;

/// A running chromedriver; killed (with its browsers) on drop.
pub struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    /// Starts chromedriver on `127.0.0.1:<free port>` and waits until `GET /status` says ready.
    /// Panics with instructions when chromedriver or Chromium is not installed: never a silent skip.
    pub async fn start() -> ChromeDriver {
        for _ in 0..PORT_ATTEMPTS {
            if let Some(driver) = Self::try_start(free_port()).await {
                return driver;
            }
            // Lost the port to someone else (chromedriver exited) or never became ready.
        }
        panic!("chromedriver did not become ready on any of {PORT_ATTEMPTS} free ports");
    }

    /// Starts chromedriver on a given port (a restart after a crash, as systemd would do).
    pub async fn start_on(port: u16) -> ChromeDriver {
        for _ in 0..PORT_ATTEMPTS {
            if let Some(driver) = Self::try_start(port).await {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("chromedriver did not become ready on port {port}");
    }

    async fn try_start(port: u16) -> Option<ChromeDriver> {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new("/usr/bin/chromium").exists(),
            "The browser tests need Debian's chromium and chromedriver ({CHROMEDRIVER}, /usr/bin/chromium). \
             Run `bash .ci/run` (it installs them), or `apt-get install -y chromium chromium-driver`."
        );
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {CHROMEDRIVER}: {e}"));
        if wait_ready(&mut child, port).await {
            return Some(ChromeDriver { child, port });
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://127.0.0.1:{}", self.port)).expect("a valid loopback URL")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL to chromedriver and the Chromium processes of its group: a crash, nothing is closed.
    pub fn kill(&mut self) {
        // The group id is chromedriver's pid (`process_group(0)`); a negative pid names the group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port that was free a moment ago (bound on :0, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind a loopback port")
}

/// Polls `GET /status` until `value.ready` is true; false if the process exits or time runs out.
async fn wait_ready(child: &mut Child, port: u16) -> bool {
    igwatch::check::install_crypto_provider();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        let status = client
            .get(format!("http://127.0.0.1:{port}/status"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if let Ok(response) = status {
            if let Ok(body) = response.json::<serde_json::Value>().await {
                if body["value"]["ready"] == serde_json::Value::Bool(true) {
                    return true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
