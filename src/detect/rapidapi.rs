//! Rules for `RapidAPI` profile providers (instagram210 `ig_profile?ig=`, instagram120 `result` envelope).
//!
//! Gateway errors come first: a quota or key error is never read as "not found", and "not found" is
//! only read from a 200 answer.

use super::observation::HttpObservation;
use super::rule::{Classified, Rule, Signals, first_match};
use super::signals::{bytes_mention, first_count, first_str, names_target, parse_json, unknown_if};
use crate::domain::{ProfileFacts, UnknownReason, Username, Verdict};
use serde_json::Value;

/// How deep the profile object may sit inside envelopes (`{"result":[{"user":{...}}]}` is 3).
const PROFILE_DEPTH: u8 = 4;

/// Marker for the `RapidAPI` source; its rules receive a [`RapidApiContext`].
pub enum RapidApiJson {}

/// Spelled out so the rule functions coerce to the table's fn pointer type.
type RapidApiRule = Rule<RapidApiJson>;

impl Signals for RapidApiJson {
    type Context<'a> = RapidApiContext<'a>;
}

/// One `RapidAPI` response with its body parsed once for every rule.
pub struct RapidApiContext<'a> {
    target: &'a Username,
    obs: HttpObservation<'a>,
    json: Option<Value>,
}

impl RapidApiContext<'_> {
    /// The profile object, in any accepted shape: `[{...}]`, `{"username":...}`, `{"result":{...}}`,
    /// `{"result":[{...}]}`, or under `user` / `data`.
    fn profile(&self) -> Option<&Value> {
        find_profile(self.json.as_ref()?, PROFILE_DEPTH)
    }

    /// The profile's `username` in a 200 answer.
    fn username(&self) -> Option<&str> {
        if self.obs.status != 200 {
            return None;
        }
        self.profile()?.get("username")?.as_str()
    }
}

fn find_profile(value: &Value, depth: u8) -> Option<&Value> {
    let depth = depth.checked_sub(1)?;
    match value {
        Value::Array(items) => find_profile(items.first()?, depth),
        Value::Object(map) if map.get("username").is_some_and(Value::is_string) => Some(value),
        Value::Object(map) => ["result", "user", "data"]
            .iter()
            .find_map(|key| find_profile(map.get(*key)?, depth)),
        _ => None,
    }
}

/// The `RapidAPI` rules, evaluated in order; the first match decides.
pub const RAPIDAPI_RULES: &[Rule<RapidApiJson>] = &[
    RapidApiRule::new("quota_status_429", quota_status_429),
    RapidApiRule::new("quota_message", quota_message),
    RapidApiRule::new("key_rejected", key_rejected),
    RapidApiRule::new("status_5xx", status_5xx),
    RapidApiRule::new("user_is_target", user_is_target),
    RapidApiRule::new("user_is_other", user_is_other),
    RapidApiRule::new("empty_list", empty_list),
    RapidApiRule::new("not_found_message", not_found_message),
];

/// Classifies one `RapidAPI` profile response for `target`.
#[must_use]
pub fn classify_rapidapi(target: &Username, obs: &HttpObservation<'_>) -> Classified {
    let context = RapidApiContext {
        target,
        obs: *obs,
        json: parse_json(obs.body),
    };
    first_match(RAPIDAPI_RULES, &context)
}

/// HTTP 429 from the gateway or the provider: rotate to the next key.
fn quota_status_429(cx: &RapidApiContext<'_>) -> Option<Verdict> {
    unknown_if(cx.obs.status == 429, UnknownReason::Quota)
}

/// A body that is not a profile and mentions "quota" or "exceeded", whatever the status. A profile
/// whose biography says "exceeded" is not a quota error.
fn quota_message(cx: &RapidApiContext<'_>) -> Option<Verdict> {
    let mentions_quota = ["quota", "exceeded"]
        .iter()
        .any(|word| bytes_mention(cx.obs.body, word));
    unknown_if(
        mentions_quota && cx.profile().is_none(),
        UnknownReason::Quota,
    )
}

/// 401/403: "You are not subscribed to this API.", "Invalid API key".
fn key_rejected(cx: &RapidApiContext<'_>) -> Option<Verdict> {
    unknown_if(
        matches!(cx.obs.status, 401 | 403),
        UnknownReason::KeyRejected,
    )
}

/// 5xx from the gateway or the provider.
fn status_5xx(cx: &RapidApiContext<'_>) -> Option<Verdict> {
    unknown_if(
        (500..=599).contains(&cx.obs.status),
        UnknownReason::ServerError,
    )
}

/// 200 with a profile whose `username` is the target (case-insensitive).
fn user_is_target(cx: &RapidApiContext<'_>) -> Option<Verdict> {
    let username = cx.username()?;
    let profile = cx.profile()?;
    names_target(username, cx.target).then(|| Verdict::Exists {
        private: profile.get("is_private").and_then(Value::as_bool) == Some(true),
        facts: ProfileFacts {
            full_name: first_str(profile, &["/full_name"]),
            followers: first_count(profile, &["/follower_count", "/edge_followed_by/count"]),
            posts: first_count(
                profile,
                &["/media_count", "/edge_owner_to_timeline_media/count"],
            ),
        },
    })
}

/// 200 with a profile of someone else: a stale cache or a search result, never evidence.
fn user_is_other(cx: &RapidApiContext<'_>) -> Option<Verdict> {
    let username = cx.username()?;
    unknown_if(!names_target(username, cx.target), UnknownReason::Mismatch)
}

/// 200 with `[]`: instagram210 has no such user.
fn empty_list(cx: &RapidApiContext<'_>) -> Option<Verdict> {
    let empty = cx
        .json
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty);
    (cx.obs.status == 200 && empty).then_some(Verdict::NotFound)
}

/// 200 with an explicit not-found message about the user or page, e.g. instagram120
/// `{"success":false,"message":"The page not found."}` or `{"message":"User not found"}`.
fn not_found_message(cx: &RapidApiContext<'_>) -> Option<Verdict> {
    const SUBJECTS: [&str; 4] = ["user", "page", "profile", "account"];
    if cx.obs.status != 200 {
        return None;
    }
    let json = cx.json.as_ref()?;
    if json.get("success") == Some(&Value::Bool(true)) {
        return None;
    }
    let message = first_str(json, &["/message", "/error", "/detail", "/msg"])?.to_lowercase();
    let says_not_found =
        message.contains("not found") && SUBJECTS.iter().any(|subject| message.contains(subject));
    says_not_found.then_some(Verdict::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::UNCLASSIFIED;
    use crate::detect::fixtures::{Case, RAPIDAPI_CASES, check_coverage, check_rule};

    fn check(rule: &str) {
        fn classify(case: &Case) -> Classified {
            classify_rapidapi(&case.target(), &case.http())
        }
        check_rule(RAPIDAPI_CASES, rule, classify);
    }

    #[test]
    fn every_rapidapi_rule_has_a_fixture() {
        check_coverage(RAPIDAPI_CASES, RAPIDAPI_RULES.iter().map(|rule| rule.name));
    }

    #[test]
    fn rapidapi_429_is_unknown_quota() {
        check("quota_status_429");
    }

    #[test]
    fn rapidapi_quota_message_is_unknown_quota() {
        check("quota_message");
    }

    #[test]
    fn rapidapi_401_403_are_key_rejected() {
        check("key_rejected");
    }

    #[test]
    fn rapidapi_5xx_is_server_error() {
        check("status_5xx");
    }

    #[test]
    fn rapidapi_matching_username_exists_in_every_shape() {
        check("user_is_target");
    }

    #[test]
    fn rapidapi_other_username_is_mismatch() {
        check("user_is_other");
    }

    #[test]
    fn rapidapi_empty_list_is_not_found() {
        check("empty_list");
    }

    #[test]
    fn rapidapi_not_found_message_on_200_is_not_found() {
        check("not_found_message");
    }

    #[test]
    fn rapidapi_non_json_or_error_body_is_unclassified() {
        check(UNCLASSIFIED);
    }
}
