//! Slash commands: a pure `parse(text, bot_name)`, tested as data, and the menu registered
//! with `setMyCommands`.

use super::texts::command_description;
use crate::domain::Lang;
use teloxide_core::types::BotCommand;

/// A slash command with its inline argument, if it takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    Help,
    /// `/add` or `/add name`.
    Add(Option<String>),
    Bulk,
    List,
    /// `/check` (all pending) or `/check name`.
    Check(Option<String>),
    Export,
    Settings,
    Cancel,
    Admin,
    Users,
    Stats,
}

/// Why a text starting with `/` is not a command we run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command `/{0}`")]
    Unknown(String),
    #[error("`/{0}` takes no argument")]
    TooManyArguments(String),
    /// `/cmd@other_bot`: meant for another bot in a group; ignored silently.
    #[error("the command is addressed to @{0}")]
    OtherBot(String),
}

/// Every command of the menu, as registered with `setMyCommands` (name, admin only).
pub const COMMANDS: [(&str, bool); 12] = [
    ("start", false),
    ("help", false),
    ("add", false),
    ("bulk", false),
    ("list", false),
    ("check", false),
    ("export", false),
    ("settings", false),
    ("cancel", false),
    ("admin", true),
    ("users", true),
    ("stats", true),
];

/// The command menu of `lang`; admins also get the admin commands.
pub fn bot_commands(lang: Lang, admin: bool) -> Vec<BotCommand> {
    COMMANDS
        .iter()
        .filter(|(_, admin_only)| admin || !admin_only)
        .map(|(name, _)| BotCommand::new(*name, command_description(lang, name)))
        .collect()
}

/// Parses `text` as a command. `Ok(None)` when it is not a command at all (no leading `/`).
/// `bot_name` is the bot's username without `@`; `/cmd@bot_name` is accepted (any case).
pub fn parse(text: &str, bot_name: &str) -> Result<Option<Command>, ParseError> {
    let text = text.trim();
    let Some(rest) = text.strip_prefix('/') else {
        return Ok(None);
    };
    let (head, arg) = match rest.split_once(char::is_whitespace) {
        Some((head, arg)) => (head, Some(arg.trim()).filter(|a| !a.is_empty())),
        None => (rest, None),
    };
    let (name, addressee) = match head.split_once('@') {
        Some((name, to)) => (name, Some(to)),
        None => (head, None),
    };
    if let Some(to) = addressee {
        if !to.eq_ignore_ascii_case(bot_name) {
            return Err(ParseError::OtherBot(to.to_owned()));
        }
    }
    let name = name.to_ascii_lowercase();
    let no_arg = |command: Command| match arg {
        None => Ok(Some(command)),
        Some(_) => Err(ParseError::TooManyArguments(name.clone())),
    };
    let owned = arg.map(str::to_owned);
    match name.as_str() {
        // Deep links (`/start payload`) carry an argument we do not use.
        "start" => Ok(Some(Command::Start)),
        "help" => no_arg(Command::Help),
        "add" => Ok(Some(Command::Add(owned))),
        "bulk" => no_arg(Command::Bulk),
        "list" => no_arg(Command::List),
        "check" => Ok(Some(Command::Check(owned))),
        "export" => no_arg(Command::Export),
        "settings" => no_arg(Command::Settings),
        "cancel" => Ok(Some(Command::Cancel)),
        "admin" => no_arg(Command::Admin),
        "users" => no_arg(Command::Users),
        "stats" => no_arg(Command::Stats),
        _ => Err(ParseError::Unknown(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "igwatch_bot";

    #[test]
    fn commands_parse_as_data() {
        use Command as C;
        for (text, expected) in [
            ("/start", C::Start),
            ("/start ref123", C::Start),
            ("  /help  ", C::Help),
            ("/add", C::Add(None)),
            ("/add @john.doe", C::Add(Some("@john.doe".into()))),
            (
                "/add https://instagram.com/x_y/",
                C::Add(Some("https://instagram.com/x_y/".into())),
            ),
            ("/ADD name", C::Add(Some("name".into()))),
            ("/add@igwatch_bot name", C::Add(Some("name".into()))),
            ("/add@IGWatch_Bot", C::Add(None)),
            ("/bulk", C::Bulk),
            ("/list", C::List),
            ("/check", C::Check(None)),
            ("/check   a.b  ", C::Check(Some("a.b".into()))),
            ("/export", C::Export),
            ("/settings", C::Settings),
            ("/cancel", C::Cancel),
            ("/cancel please", C::Cancel),
            ("/admin", C::Admin),
            ("/users", C::Users),
            ("/stats", C::Stats),
        ] {
            assert_eq!(parse(text, BOT), Ok(Some(expected)), "{text}");
        }
    }

    #[test]
    fn non_commands_and_errors() {
        assert_eq!(parse("hello", BOT), Ok(None));
        assert_eq!(parse("", BOT), Ok(None));
        assert_eq!(parse("name /add", BOT), Ok(None));
        assert_eq!(parse("/nope", BOT), Err(ParseError::Unknown("nope".into())));
        assert_eq!(parse("/", BOT), Err(ParseError::Unknown(String::new())));
        assert_eq!(
            parse("/help me", BOT),
            Err(ParseError::TooManyArguments("help".into()))
        );
        assert_eq!(
            parse("/add@other_bot x", BOT),
            Err(ParseError::OtherBot("other_bot".into()))
        );
    }

    #[test]
    fn every_command_is_parsed_and_valid_for_set_my_commands() {
        for (name, _) in COMMANDS {
            assert!(parse(&format!("/{name}"), BOT).unwrap().is_some(), "{name}");
            assert!(name.len() <= 32);
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }
}
