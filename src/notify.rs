//! systemd's notification protocol (`Type=notify`): readiness, watchdog pings and stopping,
//! over the `sd-notify` crate. Every call is a no-op when `NOTIFY_SOCKET` is unset (not under
//! systemd, or a unit without `Type=notify`), so callers never need to know how they were started.

use sd_notify::NotifyState;
use std::time::Duration;

/// Why a notification could not be sent to the service manager.
#[derive(Debug, thiserror::Error)]
#[error("failed to send {state} to the service manager")]
pub struct NotifyError {
    state: &'static str,
    #[source]
    source: std::io::Error,
}

fn send(state: NotifyState<'_>, label: &'static str) -> Result<(), NotifyError> {
    sd_notify::notify(&[state]).map_err(|source| NotifyError {
        state: label,
        source,
    })
}

/// `READY=1`: start-up is finished (every actor is up). systemd holds `systemctl start` and
/// units ordered after igwatch until this arrives.
pub fn ready() -> Result<(), NotifyError> {
    send(NotifyState::Ready, "READY=1")
}

/// `WATCHDOG=1`: the keep-alive ping. Send it only from code that has just seen the scheduler
/// and the dispatcher answer, so a wedged actor system stops the pings and systemd restarts it.
pub fn watchdog_ping() -> Result<(), NotifyError> {
    send(NotifyState::Watchdog, "WATCHDOG=1")
}

/// `STOPPING=1`: a graceful shutdown has begun (in-flight probes are finishing).
pub fn stopping() -> Result<(), NotifyError> {
    send(NotifyState::Stopping, "STOPPING=1")
}

/// How often to send [`watchdog_ping`]: half of the `WatchdogSec=` timeout that systemd passes in
/// `WATCHDOG_USEC` (as sd_watchdog_enabled(3) recommends), or `None` when no watchdog is
/// configured for this process or there is no notification socket to ping.
pub fn watchdog_interval() -> Option<Duration> {
    std::env::var_os("NOTIFY_SOCKET")?;
    sd_notify::watchdog_enabled()
        .filter(|timeout| !timeout.is_zero())
        .map(|timeout| timeout / 2)
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixDatagram;
    use std::process::Command;
    use std::time::Duration;

    /// Set in the child process that the tests below spawn from this same test binary: the
    /// process environment (NOTIFY_SOCKET, WATCHDOG_USEC) can only be chosen safely at spawn.
    const CHILD_ROLE: &str = "IGWATCH_NOTIFY_TEST_ROLE";

    /// Runs one test of this binary again in a child process with `envs` set (and the notify
    /// variables otherwise removed); asserts the child passed.
    fn run_child(test: &str, role: &str, envs: &[(&str, &str)]) {
        let exe = std::env::current_exe().expect("test binary path");
        let mut cmd = Command::new(exe);
        cmd.args([test, "--exact", "--test-threads=1", "--nocapture"])
            .env(CHILD_ROLE, role)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID");
        for (key, value) in envs {
            cmd.env(key, value);
        }
        let out = cmd.output().expect("run the child test");
        assert!(
            out.status.success(),
            "child test {test} ({role}) failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn every_call_is_a_no_op_without_a_notify_socket() {
        if std::env::var(CHILD_ROLE).as_deref() == Ok("no-socket") {
            super::ready().expect("no-op ready");
            super::watchdog_ping().expect("no-op ping");
            super::stopping().expect("no-op stopping");
            assert_eq!(super::watchdog_interval(), None);
            return;
        }
        // WATCHDOG_USEC without a socket still means "no watchdog to ping".
        run_child(
            "notify::tests::every_call_is_a_no_op_without_a_notify_socket",
            "no-socket",
            &[("WATCHDOG_USEC", "4000000")],
        );
    }

    #[test]
    fn states_arrive_at_the_notify_socket_and_the_interval_is_half_the_timeout() {
        if std::env::var(CHILD_ROLE).as_deref() == Ok("socket") {
            assert_eq!(super::watchdog_interval(), Some(Duration::from_secs(2)));
            super::ready().expect("ready");
            super::watchdog_ping().expect("ping");
            super::stopping().expect("stopping");
            return;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        let path_text = path.to_str().expect("UTF-8 temp path");
        run_child(
            "notify::tests::states_arrive_at_the_notify_socket_and_the_interval_is_half_the_timeout",
            "socket",
            &[("NOTIFY_SOCKET", path_text), ("WATCHDOG_USEC", "4000000")],
        );
        let mut received = Vec::new();
        let mut buf = [0u8; 256];
        for _ in 0..3 {
            let n = socket.recv(&mut buf).expect("a datagram from the child");
            received.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        assert_eq!(received, ["READY=1\n", "WATCHDOG=1\n", "STOPPING=1\n"]);
    }
}
