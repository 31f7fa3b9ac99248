//! Rules for a profile page rendered by the browser (`https://www.instagram.com/{user}/`).
//!
//! Walls win: a login or rate-limit page may still name the user, so those markers are checked before
//! any "exists" marker, and "this page isn't available" is only absence on the profile URL itself.

use super::observation::PageObservation;
use super::rule::{Classified, Rule, Signals, first_match};
use super::signals::{is_profile_url, landed_on, mentions, unknown_if};
use crate::domain::{ProfileFacts, UnknownReason, Username, Verdict};

/// Marker for the browser profile page source; its rules receive a [`PageContext`].
pub enum ProfilePage {}

/// Spelled out so the rule functions coerce to the table's fn pointer type.
type PageRule = Rule<ProfilePage>;

impl Signals for ProfilePage {
    type Context<'a> = PageContext<'a>;
}

/// One rendered profile page, with the markers every rule needs computed once.
pub struct PageContext<'a> {
    final_url: &'a str,
    title: &'a str,
    /// The page source, ASCII-lowercased once so every marker search is case-insensitive.
    html: String,
    /// The browser is still on `/{user}/` (no redirect).
    at_profile_url: bool,
    /// `og:url` or canonical link is `/{user}/`, or the title is "… (@user) • Instagram photos and videos".
    names_profile: bool,
}

impl PageContext<'_> {
    fn mentions_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|phrase| mentions(&self.html, phrase))
    }

    /// Facts read from the title ("Full Name (@user) • …") and `og:description`
    /// ("1,234 Followers, 56 Following, 78 Posts - …"); abbreviated counts ("1.2M") are left out.
    fn facts(&self) -> ProfileFacts {
        let full_name = self
            .title
            .split_once(" (@")
            .map(|(name, _)| name.trim())
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
        let description = meta_content(&self.html, "og:description")
            .or_else(|| meta_content(&self.html, "description"))
            .unwrap_or_default();
        ProfileFacts {
            full_name,
            followers: count_before(description, " followers"),
            posts: count_before(description, " posts"),
        }
    }
}

/// Markers of Instagram's missing-page view (maigret, DESIGN §8).
const UNAVAILABLE: [&str; 2] = [
    "sorry, this page isn't available",
    "the link you followed may be broken",
];

/// The profile page rules, evaluated in order; the first match decides.
pub const PROFILE_PAGE_RULES: &[Rule<ProfilePage>] = &[
    PageRule::new("challenge_redirect", challenge_redirect),
    PageRule::new("login_redirect", login_redirect),
    PageRule::new("rate_limited_text", rate_limited_text),
    PageRule::new("login_title", login_title),
    PageRule::new("login_form", login_form),
    PageRule::new("root_route_path", root_route_path),
    PageRule::new("page_unavailable", page_unavailable),
    PageRule::new("unavailable_after_redirect", unavailable_after_redirect),
    PageRule::new("private_account", private_account),
    PageRule::new("profile_markers", profile_markers),
];

/// Classifies one rendered profile page of `target`.
#[must_use]
pub fn classify_profile_page(target: &Username, page: &PageObservation<'_>) -> Classified {
    let html = page.html.to_ascii_lowercase();
    let title = page.title.to_lowercase();
    let canonical = [meta_content(&html, "og:url"), link_href(&html, "canonical")];
    let title_marker = format!("(@{target}) \u{2022} instagram photos and videos");
    let names_profile = title.contains(&title_marker)
        || canonical
            .into_iter()
            .flatten()
            .any(|url| is_profile_url(url, target));
    let context = PageContext {
        final_url: page.final_url,
        title: page.title,
        at_profile_url: is_profile_url(page.final_url, target),
        names_profile,
        html,
    };
    first_match(PROFILE_PAGE_RULES, &context)
}

/// Landed on `/challenge/`: the owner's session must be verified.
fn challenge_redirect(cx: &PageContext<'_>) -> Option<Verdict> {
    unknown_if(
        landed_on(Some(cx.final_url), "/challenge"),
        UnknownReason::SessionFlagged,
    )
}

/// Landed on `/accounts/login/…`: no session or an expired one.
fn login_redirect(cx: &PageContext<'_>) -> Option<Verdict> {
    unknown_if(
        landed_on(Some(cx.final_url), "/accounts/login"),
        UnknownReason::LoginWall,
    )
}

/// "Please wait a few minutes", "Take a quick pause", "We're seeing more requests".
fn rate_limited_text(cx: &PageContext<'_>) -> Option<Verdict> {
    unknown_if(
        cx.mentions_any(&[
            "please wait a few minutes",
            "take a quick pause",
            "we're seeing more requests",
        ]),
        UnknownReason::RateLimited,
    )
}

/// Title "Login • Instagram" (maigret's error map).
fn login_title(cx: &PageContext<'_>) -> Option<Verdict> {
    let title = cx.title.trim().to_lowercase();
    unknown_if(
        ["login \u{2022} instagram", "log in \u{2022} instagram"].contains(&title.as_str()),
        UnknownReason::LoginWall,
    )
}

/// The login form (`id="loginForm"`) is on the page, even over a profile.
fn login_form(cx: &PageContext<'_>) -> Option<Verdict> {
    unknown_if(
        cx.mentions_any(&["id=\"loginform\"", "id='loginform'"]),
        UnknownReason::LoginWall,
    )
}

/// Embedded route state `"routePath":"\/"`: the login wall served on the profile URL (maigret).
/// A real profile has `"routePath":"\/{username}\/…"`, which this does not match.
fn root_route_path(cx: &PageContext<'_>) -> Option<Verdict> {
    unknown_if(
        cx.mentions_any(&[r#""routepath":"\/""#, r#""routepath":"/""#]),
        UnknownReason::LoginWall,
    )
}

/// "Sorry, this page isn't available." on the profile URL itself: the profile does not exist.
fn page_unavailable(cx: &PageContext<'_>) -> Option<Verdict> {
    (cx.at_profile_url && cx.mentions_any(&UNAVAILABLE)).then_some(Verdict::NotFound)
}

/// The missing-page view after a redirect elsewhere says nothing about the profile.
fn unavailable_after_redirect(cx: &PageContext<'_>) -> Option<Verdict> {
    unknown_if(
        !cx.at_profile_url && cx.mentions_any(&UNAVAILABLE),
        UnknownReason::Unclassified,
    )
}

/// "This account is private" on the profile: live, private.
fn private_account(cx: &PageContext<'_>) -> Option<Verdict> {
    let on_profile = cx.at_profile_url || cx.names_profile;
    (on_profile && cx.mentions_any(&["this account is private"])).then(|| Verdict::Exists {
        private: true,
        facts: cx.facts(),
    })
}

/// `og:url` / canonical = `/{user}/` or the profile title: live, public.
fn profile_markers(cx: &PageContext<'_>) -> Option<Verdict> {
    cx.names_profile.then(|| Verdict::Exists {
        private: false,
        facts: cx.facts(),
    })
}

/// The opening tags named `name` (`<meta`, `<link`) of lowercase `html`, without the closing `>`.
fn tags<'h>(html: &'h str, open: &'static str) -> impl Iterator<Item = &'h str> {
    html.match_indices(open).filter_map(move |(start, _)| {
        let tag = &html[start..];
        let end = tag.find('>')?;
        let after_name = tag[open.len()..].starts_with(|c: char| c.is_ascii_whitespace());
        after_name.then_some(&tag[..end])
    })
}

/// The quoted value of attribute `name` in one lowercase tag.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let mut offset = 0;
    while let Some(found) = tag[offset..].find(name) {
        let start = offset + found;
        let after = &tag[start + name.len()..];
        let preceded_by_space = tag[..start].ends_with(|c: char| c.is_ascii_whitespace());
        if let (true, Some(value)) = (preceded_by_space, after.strip_prefix('=')) {
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let value = &value[1..];
            return value.find(quote).map(|end| &value[..end]);
        }
        offset = start + name.len();
    }
    None
}

/// `content` of `<meta property="{key}">` or `<meta name="{key}">`.
fn meta_content<'h>(html: &'h str, key: &str) -> Option<&'h str> {
    tags(html, "<meta")
        .find(|tag| attribute(tag, "property") == Some(key) || attribute(tag, "name") == Some(key))
        .and_then(|tag| attribute(tag, "content"))
}

/// `href` of `<link rel="{rel}">`.
fn link_href<'h>(html: &'h str, rel: &str) -> Option<&'h str> {
    tags(html, "<link")
        .find(|tag| attribute(tag, "rel") == Some(rel))
        .and_then(|tag| attribute(tag, "href"))
}

/// The plain count (digits and thousands commas) right before `label` in `text`, e.g. "1,234 followers".
fn count_before(text: &str, label: &str) -> Option<u64> {
    let head = &text[..text.find(label)?];
    let prefix = head.trim_end_matches(|c: char| c.is_ascii_digit() || c == ',');
    if !(prefix.is_empty() || prefix.ends_with(char::is_whitespace)) {
        return None;
    }
    let digits: String = head[prefix.len()..]
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::UNCLASSIFIED;
    use crate::detect::fixtures::{Case, PAGE_CASES, check_coverage, check_rule};

    fn check(rule: &str) {
        fn classify(case: &Case) -> Classified {
            classify_profile_page(&case.target(), &case.page())
        }
        check_rule(PAGE_CASES, rule, classify);
    }

    #[test]
    fn every_page_rule_has_a_fixture() {
        check_coverage(PAGE_CASES, PROFILE_PAGE_RULES.iter().map(|rule| rule.name));
    }

    #[test]
    fn page_challenge_redirect_is_session_flagged() {
        check("challenge_redirect");
    }

    #[test]
    fn page_login_redirect_is_login_wall() {
        check("login_redirect");
    }

    #[test]
    fn page_rate_limit_text_is_rate_limited_even_on_a_profile() {
        check("rate_limited_text");
    }

    #[test]
    fn page_login_title_is_login_wall() {
        check("login_title");
    }

    #[test]
    fn page_login_form_over_profile_is_login_wall() {
        check("login_form");
    }

    #[test]
    fn page_root_route_path_is_login_wall() {
        check("root_route_path");
    }

    #[test]
    fn page_unavailable_on_profile_url_is_not_found() {
        check("page_unavailable");
    }

    #[test]
    fn page_unavailable_after_redirect_is_unclassified() {
        check("unavailable_after_redirect");
    }

    #[test]
    fn page_private_text_is_exists_private() {
        check("private_account");
    }

    #[test]
    fn page_profile_markers_exist_with_facts() {
        check("profile_markers");
    }

    #[test]
    fn page_without_markers_is_unclassified() {
        check(UNCLASSIFIED);
    }

    #[test]
    fn counts_are_read_only_when_exact() {
        for (text, expected) in [
            ("1,234 followers, 56 following, 78 posts", Some(1234)),
            ("0 followers", Some(0)),
            ("1.2m followers, 12 following", None),
            ("50.2k followers", None),
            ("no numbers here", None),
            ("\u{2022}1,234 followers", None),
            ("\u{2022} 1,234 followers", Some(1234)),
            (" followers", None),
        ] {
            assert_eq!(count_before(text, " followers"), expected, "{text}");
        }
    }
}
