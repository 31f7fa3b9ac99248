//! Rules for Instagram's web profile JSON (`GET /api/v1/users/web_profile_info/?username=`).
//!
//! Order matters: redirects and walls (rate limit, login, flagged session) come before the status
//! rules, so a 404 carrying a challenge message is never read as "not found"; body shape comes last.

use super::observation::HttpObservation;
use super::rule::{Classified, Rule, Signals, first_match};
use super::signals::{
    bytes_mention, first_count, first_str, is_html, landed_on, names_target, parse_json, unknown_if,
};
use crate::domain::{ProfileFacts, UnknownReason, Username, Verdict};
use serde_json::Value;

/// Marker for the web profile JSON source; its rules receive a [`WebContext`].
pub enum InstagramWebJson {}

/// Spelled out so the rule functions coerce to the table's fn pointer type.
type WebRule = Rule<InstagramWebJson>;

impl Signals for InstagramWebJson {
    type Context<'a> = WebContext<'a>;
}

/// One web profile JSON response with its body parsed once for every rule.
pub struct WebContext<'a> {
    target: &'a Username,
    obs: HttpObservation<'a>,
    json: Option<Value>,
}

impl WebContext<'_> {
    /// The top-level `message` of a JSON error body.
    fn message(&self) -> Option<&str> {
        self.json.as_ref()?.get("message")?.as_str()
    }

    /// `data.user`, present only on 200 answers.
    fn user(&self) -> Option<&Value> {
        self.json.as_ref()?.pointer("/data/user")
    }

    /// `data.user.username` of a 200 answer.
    fn username(&self) -> Option<&str> {
        if self.obs.status != 200 {
            return None;
        }
        self.user()?.get("username")?.as_str()
    }
}

/// The web profile JSON rules, evaluated in order; the first match decides.
pub const INSTAGRAM_WEB_RULES: &[Rule<InstagramWebJson>] = &[
    WebRule::new("redirect_to_challenge", redirect_to_challenge),
    WebRule::new("redirect_to_login", redirect_to_login),
    WebRule::new("status_429", status_429),
    WebRule::new("please_wait", please_wait),
    WebRule::new("session_flagged_message", session_flagged_message),
    WebRule::new("login_required_message", login_required_message),
    WebRule::new("require_login_flag", require_login_flag),
    WebRule::new("status_404", status_404),
    WebRule::new("status_5xx", status_5xx),
    WebRule::new("html_instead_of_json", html_instead_of_json),
    WebRule::new("user_null", user_null),
    WebRule::new("user_is_target", user_is_target),
    WebRule::new("user_is_other", user_is_other),
];

/// Classifies one `web_profile_info` response for `target`.
#[must_use]
pub fn classify_instagram_web(target: &Username, obs: &HttpObservation<'_>) -> Classified {
    let context = WebContext {
        target,
        obs: *obs,
        json: parse_json(obs.body),
    };
    first_match(INSTAGRAM_WEB_RULES, &context)
}

/// Redirected to `/challenge/`: the session must be verified by its owner (Instaloader, gallery-dl).
fn redirect_to_challenge(cx: &WebContext<'_>) -> Option<Verdict> {
    unknown_if(
        landed_on(cx.obs.final_url, "/challenge"),
        UnknownReason::SessionFlagged,
    )
}

/// Redirected to `/accounts/login/`: logged out or never logged in.
fn redirect_to_login(cx: &WebContext<'_>) -> Option<Verdict> {
    unknown_if(
        landed_on(cx.obs.final_url, "/accounts/login"),
        UnknownReason::LoginWall,
    )
}

/// HTTP 429: this egress is too fast.
fn status_429(cx: &WebContext<'_>) -> Option<Verdict> {
    unknown_if(cx.obs.status == 429, UnknownReason::RateLimited)
}

/// "Please wait a few minutes before you try again." (usually a 401 with `require_login`).
fn please_wait(cx: &WebContext<'_>) -> Option<Verdict> {
    const PHRASE: &str = "please wait a few minutes";
    let in_message = cx
        .message()
        .is_some_and(|message| bytes_mention(message.as_bytes(), PHRASE));
    let in_error_body = cx.obs.status >= 400 && bytes_mention(cx.obs.body, PHRASE);
    unknown_if(in_message || in_error_body, UnknownReason::RateLimited)
}

/// `checkpoint_required` / `challenge_required` / `feedback_required` (instagrapi, Instaloader).
fn session_flagged_message(cx: &WebContext<'_>) -> Option<Verdict> {
    const FLAGS: [&str; 3] = [
        "checkpoint_required",
        "challenge_required",
        "feedback_required",
    ];
    let json = cx.json.as_ref()?;
    let flagged = ["message", "error_type"]
        .iter()
        .filter_map(|key| json.get(key).and_then(Value::as_str))
        .any(|value| FLAGS.contains(&value));
    unknown_if(flagged, UnknownReason::SessionFlagged)
}

/// `{"message":"login_required"}` (a 403 for an expired session, instagrapi `LoginRequired`).
fn login_required_message(cx: &WebContext<'_>) -> Option<Verdict> {
    unknown_if(
        cx.message() == Some("login_required"),
        UnknownReason::LoginWall,
    )
}

/// `{"require_login":true}` without the please-wait message: anonymous access refused.
fn require_login_flag(cx: &WebContext<'_>) -> Option<Verdict> {
    let flag = cx.json.as_ref().and_then(|json| json.get("require_login"));
    unknown_if(flag == Some(&Value::Bool(true)), UnknownReason::LoginWall)
}

/// HTTP 404 on `web_profile_info` is positive evidence of absence (gallery-dl `notfound="user"`,
/// instagrapi). instagrapi's "masked challenge" (a bare `Not Found` 404) concerns the private API, not
/// this endpoint; a broken egress is caught by the canary, which downgrades its `NotFound`s.
fn status_404(cx: &WebContext<'_>) -> Option<Verdict> {
    (cx.obs.status == 404).then_some(Verdict::NotFound)
}

/// 5xx: Instagram (or a proxy in front of it) failed.
fn status_5xx(cx: &WebContext<'_>) -> Option<Verdict> {
    unknown_if(
        (500..=599).contains(&cx.obs.status),
        UnknownReason::ServerError,
    )
}

/// HTML where JSON was expected: a login or error page that the status did not reveal. A body that
/// parses as JSON is judged as JSON whatever its content type says.
fn html_instead_of_json(cx: &WebContext<'_>) -> Option<Verdict> {
    unknown_if(
        cx.json.is_none() && is_html(cx.obs.content_type, cx.obs.body),
        UnknownReason::Unclassified,
    )
}

/// 200 with `data.user` null or missing: gallery-dl's "Login required to access this profile", not absence.
fn user_null(cx: &WebContext<'_>) -> Option<Verdict> {
    let data = cx.json.as_ref()?.get("data")?;
    let no_user = data.is_object() && cx.user().is_none_or(Value::is_null);
    unknown_if(cx.obs.status == 200 && no_user, UnknownReason::LoginWall)
}

/// 200 with `data.user.username` = target: the profile is live.
fn user_is_target(cx: &WebContext<'_>) -> Option<Verdict> {
    let username = cx.username()?;
    let user = cx.user()?;
    names_target(username, cx.target).then(|| Verdict::Exists {
        private: user.get("is_private").and_then(Value::as_bool) == Some(true),
        facts: ProfileFacts {
            full_name: first_str(user, &["/full_name"]),
            followers: first_count(user, &["/edge_followed_by/count"]),
            posts: first_count(user, &["/edge_owner_to_timeline_media/count"]),
        },
    })
}

/// 200 naming another user: a cache or proxy answered for someone else.
fn user_is_other(cx: &WebContext<'_>) -> Option<Verdict> {
    let username = cx.username()?;
    unknown_if(!names_target(username, cx.target), UnknownReason::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::UNCLASSIFIED;
    use crate::detect::fixtures::{Case, INSTAGRAM_WEB_CASES, check_coverage, check_rule};

    fn check(rule: &str) {
        fn classify(case: &Case) -> Classified {
            classify_instagram_web(&case.target(), &case.http())
        }
        check_rule(INSTAGRAM_WEB_CASES, rule, classify);
    }

    #[test]
    fn every_web_rule_has_a_fixture() {
        check_coverage(
            INSTAGRAM_WEB_CASES,
            INSTAGRAM_WEB_RULES.iter().map(|rule| rule.name),
        );
    }

    #[test]
    fn web_redirect_to_challenge_is_session_flagged() {
        check("redirect_to_challenge");
    }

    #[test]
    fn web_redirect_to_login_is_login_wall() {
        check("redirect_to_login");
    }

    #[test]
    fn web_429_is_rate_limited() {
        check("status_429");
    }

    #[test]
    fn web_401_please_wait_is_rate_limited() {
        check("please_wait");
    }

    #[test]
    fn web_checkpoint_challenge_feedback_required_are_session_flagged() {
        check("session_flagged_message");
    }

    #[test]
    fn web_403_login_required_is_login_wall() {
        check("login_required_message");
    }

    #[test]
    fn web_require_login_without_please_wait_is_login_wall() {
        check("require_login_flag");
    }

    #[test]
    fn web_json_404_is_not_found() {
        check("status_404");
    }

    #[test]
    fn web_5xx_is_server_error() {
        check("status_5xx");
    }

    #[test]
    fn web_html_instead_of_json_is_unclassified() {
        check("html_instead_of_json");
    }

    #[test]
    fn web_user_null_is_login_wall() {
        check("user_null");
    }

    #[test]
    fn web_user_is_target_exists_with_facts() {
        check("user_is_target");
    }

    #[test]
    fn web_other_user_is_mismatch() {
        check("user_is_other");
    }

    #[test]
    fn web_empty_or_truncated_200_is_unclassified() {
        check(UNCLASSIFIED);
    }
}
