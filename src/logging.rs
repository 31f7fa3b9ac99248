//! Logging setup: log4rs from `config/log4rs.yaml`, or plain stderr when that file is absent.

use crate::config::{LoggingConfig, parse_level};
use log4rs::append::console::{ConsoleAppender, Target};
use log4rs::config::{Appender, Deserializers, Root};
use log4rs::encode::pattern::PatternEncoder;
use std::path::{Path, PathBuf};

/// Environment variable whose value (a level) replaces the root level of any configuration.
pub const ENV_LOG_LEVEL: &str = "IGWATCH_LOG";

/// Pattern of the stderr appender used without a log4rs file (journald adds timestamps).
const CONSOLE_PATTERN: &str = "{l:<5} {t} - {m}{n}";

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("failed to load log configuration {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("failed to use log configuration {path}: it defines no usable appender")]
    NoAppender { path: PathBuf },
    #[error(
        "failed to read {ENV_LOG_LEVEL}: {value:?} is not a level \
         (use error, warn, info, debug or trace)"
    )]
    BadEnvLevel { value: String },
    #[error("failed to build the console logger: {0}")]
    Console(#[from] log4rs::config::runtime::ConfigErrors),
    #[error("failed to install the logger: {0}")]
    Install(#[from] log::SetLoggerError),
}

/// Installs the global logger: `cfg.config` when that file exists, otherwise stderr at
/// `cfg.level`; `IGWATCH_LOG` replaces the root level in both cases. Call once, at start.
pub fn init(cfg: &LoggingConfig) -> Result<log4rs::Handle, LoggingError> {
    let env_level = std::env::var(ENV_LOG_LEVEL).ok();
    let config = build(cfg, env_level.as_deref())?;
    let from_file = cfg.config.exists();
    let handle = log4rs::init_config(config)?;
    if from_file {
        log::debug!("Logging configured from {}.", cfg.config.display());
    } else {
        log::info!(
            "No log configuration at {}, logging to stderr.",
            cfg.config.display()
        );
    }
    Ok(handle)
}

/// The log4rs configuration `init` installs, without installing it.
fn build(cfg: &LoggingConfig, env_level: Option<&str>) -> Result<log4rs::Config, LoggingError> {
    let mut config = if cfg.config.exists() {
        load_file(&cfg.config)?
    } else {
        console_config(cfg.level)?
    };
    if let Some(text) = env_level.filter(|t| !t.trim().is_empty()) {
        let level = parse_level(text).map_err(|_| LoggingError::BadEnvLevel {
            value: text.to_owned(),
        })?;
        config.root_mut().set_level(level);
    }
    Ok(config)
}

/// Loads a log4rs file. log4rs drops appenders it cannot build (printing why on stderr), so a
/// file left without any appender is refused rather than silently logging nowhere.
fn load_file(path: &Path) -> Result<log4rs::Config, LoggingError> {
    let config = log4rs::config::load_config_file(path, Deserializers::default()).map_err(|e| {
        LoggingError::Load {
            path: path.to_owned(),
            reason: format!("{e:#}"),
        }
    })?;
    if config.appenders().is_empty() || config.root().appenders().is_empty() {
        return Err(LoggingError::NoAppender {
            path: path.to_owned(),
        });
    }
    Ok(config)
}

fn console_config(level: log::LevelFilter) -> Result<log4rs::Config, LoggingError> {
    let console = ConsoleAppender::builder()
        .target(Target::Stderr)
        .encoder(Box::new(PatternEncoder::new(CONSOLE_PATTERN)))
        .build();
    let config = log4rs::Config::builder()
        .appender(Appender::builder().build("console", Box::new(console)))
        .build(Root::builder().appender("console").build(level))?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../config/log4rs.yaml");

    fn logging(config: PathBuf, level: log::LevelFilter) -> LoggingConfig {
        LoggingConfig { config, level }
    }

    /// The shipped file with its log directory moved into `dir`, so loading it (which opens the
    /// log file) writes nothing into the source tree.
    fn shipped_in(dir: &Path) -> PathBuf {
        let logs = dir.join("logs");
        let text = SHIPPED.replace("data/logs/", &format!("{}/", logs.display()));
        assert_ne!(text, SHIPPED, "the shipped file logs under data/logs/");
        let path = dir.join("log4rs.yaml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_shipped_log4rs_file_loads_completely() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = logging(shipped_in(dir.path()), log::LevelFilter::Error);
        let config = build(&cfg, None).unwrap();

        let mut appenders: Vec<&str> = config.appenders().iter().map(|a| a.name()).collect();
        appenders.sort_unstable();
        assert_eq!(appenders, ["console", "file"], "no appender was dropped");
        assert_eq!(config.root().appenders(), ["console", "file"]);
        assert_eq!(
            config.root().level(),
            log::LevelFilter::Info,
            "the file wins over cfg.level"
        );

        let mut quiet: Vec<(&str, log::LevelFilter)> = config
            .loggers()
            .iter()
            .map(|l| (l.name(), l.level()))
            .collect();
        quiet.sort_unstable();
        let warn = log::LevelFilter::Warn;
        assert_eq!(
            quiet,
            [
                ("h2", warn),
                ("hyper", warn),
                ("hyper_util", warn),
                ("reqwest", warn),
                ("rustls", warn),
                ("thirtyfour", warn),
            ]
        );
        assert!(dir.path().join("logs/igwatch.log").exists());
    }

    #[test]
    fn without_a_file_logs_go_to_stderr_at_the_configured_level() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = logging(dir.path().join("absent.yaml"), log::LevelFilter::Warn);
        let config = build(&cfg, None).unwrap();
        assert_eq!(config.appenders().len(), 1);
        assert_eq!(config.root().level(), log::LevelFilter::Warn);
    }

    #[test]
    fn the_environment_replaces_the_root_level() {
        let dir = tempfile::tempdir().unwrap();
        let absent = logging(dir.path().join("absent.yaml"), log::LevelFilter::Warn);
        let config = build(&absent, Some("DEBUG")).unwrap();
        assert_eq!(config.root().level(), log::LevelFilter::Debug);
        let config = build(&absent, Some("")).unwrap();
        assert_eq!(
            config.root().level(),
            log::LevelFilter::Warn,
            "empty means unset"
        );

        let shipped = logging(shipped_in(dir.path()), log::LevelFilter::Info);
        let config = build(&shipped, Some("trace")).unwrap();
        assert_eq!(config.root().level(), log::LevelFilter::Trace);

        let error = build(&absent, Some("loud")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "failed to read IGWATCH_LOG: \"loud\" is not a level (use error, warn, info, debug or trace)"
        );
    }

    #[test]
    fn a_broken_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bad_yaml = dir.path().join("bad.yaml");
        std::fs::write(&bad_yaml, "root: [unclosed").unwrap();
        let error = build(&logging(bad_yaml, log::LevelFilter::Info), None).unwrap_err();
        assert!(matches!(error, LoggingError::Load { .. }), "{error}");

        let no_appender = dir.path().join("none.yaml");
        std::fs::write(&no_appender, "root:\n  level: info\n").unwrap();
        let error = build(&logging(no_appender, log::LevelFilter::Info), None).unwrap_err();
        assert!(matches!(error, LoggingError::NoAppender { .. }), "{error}");
    }
}
