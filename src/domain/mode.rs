//! Per-owner check mode, user role and interface language.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How an owner's accounts are checked (DESIGN section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Mode {
    /// The profile API decides.
    #[serde(rename = "api")]
    Api,
    /// A browser with the owner's Instagram session decides.
    #[serde(rename = "browser")]
    Browser,
    /// API `NotFound` ends the probe; API `Exists` needs the browser to agree.
    #[serde(rename = "api+browser")]
    ApiBrowser,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Api, Mode::Browser, Mode::ApiBrowser];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Api => "api",
            Mode::Browser => "browser",
            Mode::ApiBrowser => "api+browser",
        }
    }

    /// Whether checking in this mode needs a WebDriver session.
    pub fn needs_browser(self) -> bool {
        !matches!(self, Mode::Api)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown mode `{s}` (expected api, browser or api+browser)"))
    }
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}` (expected user or admin)")),
        }
    }
}

/// Interface language of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// Picks the language from Telegram's `language_code` (`ru`, `uk`, `be`, `kk` → Russian).
    pub fn from_language_code(code: Option<&str>) -> Lang {
        match code.map(|c| {
            c.split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        }) {
            Some(c) if ["ru", "uk", "be", "kk"].contains(&c.as_str()) => Lang::Ru,
            Some(c) if !c.is_empty() => Lang::En,
            _ => Lang::default(),
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ru" => Ok(Lang::Ru),
            "en" => Ok(Lang::En),
            other => Err(format!("unknown language `{other}` (expected ru or en)")),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_through_text() {
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>().unwrap(), m);
        }
        assert!("fast".parse::<Mode>().is_err());
    }

    #[test]
    fn language_follows_telegram_code() {
        assert_eq!(Lang::from_language_code(Some("ru")), Lang::Ru);
        assert_eq!(Lang::from_language_code(Some("en-US")), Lang::En);
        assert_eq!(Lang::from_language_code(Some("de")), Lang::En);
        assert_eq!(Lang::from_language_code(None), Lang::Ru);
    }
}
