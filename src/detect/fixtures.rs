//! Test support: every fixture under `tests/fixtures/`, the per-source case manifests, and the checks
//! that run them (one named test per rule lives next to each rule table).

use super::observation::{HttpObservation, PageObservation};
use super::rule::{Classified, UNCLASSIFIED};
use crate::domain::{ProfileFacts, UnknownReason, Username, Verdict};
use serde::Deserialize;
use std::collections::BTreeSet;

/// Embeds fixture files by their path under `tests/fixtures/`.
macro_rules! fixture_files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $path)))),*]
    };
}

/// Embeds a case manifest by its path under `tests/fixtures/`.
macro_rules! manifest {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $path
        ))
    };
}

pub(super) const INSTAGRAM_WEB_CASES: &str = manifest!("instagram_web/cases.toml");
pub(super) const RAPIDAPI_CASES: &str = manifest!("rapidapi/cases.toml");
pub(super) const PAGE_CASES: &str = manifest!("pages/cases.toml");

/// Every fixture file; a test checks that each is used by some case.
const FILES: &[(&str, &[u8])] = fixture_files![
    "instagram_web/200_empty.txt",
    "instagram_web/200_exists_private.json",
    "instagram_web/200_exists_public.json",
    "instagram_web/200_other_user.json",
    "instagram_web/200_truncated.json",
    "instagram_web/200_user_null.json",
    "instagram_web/400_challenge_required.json",
    "instagram_web/400_checkpoint_required.json",
    "instagram_web/400_feedback_required.json",
    "instagram_web/401_please_wait.json",
    "instagram_web/401_require_login.json",
    "instagram_web/403_login_required.json",
    "instagram_web/404_bare_not_found.txt",
    "instagram_web/404_checkpoint_required.json",
    "instagram_web/404_empty.txt",
    "instagram_web/404_json.json",
    "instagram_web/429_empty.txt",
    "instagram_web/500_json.json",
    "instagram_web/502_bad_gateway.html",
    "pages/blank.html",
    "pages/challenge.html",
    "pages/login_form_over_profile.html",
    "pages/login_page.html",
    "pages/not_available_escaped.html",
    "pages/not_available_rendered.html",
    "pages/other_profile.html",
    "pages/profile_abbreviated_counts.html",
    "pages/profile_private.html",
    "pages/profile_public.html",
    "pages/rate_limited_more_requests.html",
    "pages/rate_limited_please_wait.html",
    "pages/rate_limited_quick_pause.html",
    "pages/route_path_root.html",
    "rapidapi/200_daily_quota.json",
    "rapidapi/200_dict_exists_private.json",
    "rapidapi/200_empty.txt",
    "rapidapi/200_empty_list.json",
    "rapidapi/200_html.html",
    "rapidapi/200_list_exists.json",
    "rapidapi/200_list_exists_bio_mentions_quota.json",
    "rapidapi/200_list_exists_mixed_case.json",
    "rapidapi/200_list_other_user.json",
    "rapidapi/200_page_not_found.json",
    "rapidapi/200_result_exists.json",
    "rapidapi/200_status_ok_no_user.json",
    "rapidapi/200_user_not_found.json",
    "rapidapi/401_invalid_key.json",
    "rapidapi/403_not_subscribed.json",
    "rapidapi/403_quota_exceeded.json",
    "rapidapi/404_user_not_found.json",
    "rapidapi/429_monthly_quota.json",
    "rapidapi/429_rate_limit.json",
    "rapidapi/503_unreachable.json",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    case: Vec<Case>,
}

/// One fixture and what classifying it must give.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Case {
    file: String,
    target: String,
    rule: String,
    verdict: String,
    status: Option<u16>,
    content_type: Option<String>,
    final_url: Option<String>,
    title: Option<String>,
    full_name: Option<String>,
    followers: Option<u64>,
    posts: Option<u64>,
    /// Why the case exists, when the file name does not say.
    why: Option<String>,
}

impl Case {
    fn body(&self) -> &'static [u8] {
        match FILES.iter().find(|(path, _)| *path == self.file) {
            Some((_, bytes)) => bytes,
            None => panic!("{} is not listed in detect/fixtures.rs FILES", self.file),
        }
    }

    pub(super) fn target(&self) -> Username {
        match Username::parse(&self.target) {
            Ok(username) => username,
            Err(error) => panic!("{}: bad target {:?}: {error}", self.file, self.target),
        }
    }

    pub(super) fn http(&self) -> HttpObservation<'_> {
        HttpObservation {
            status: self
                .status
                .unwrap_or_else(|| panic!("{}: an HTTP case needs a status", self.file)),
            content_type: self.content_type.as_deref(),
            final_url: self.final_url.as_deref(),
            body: self.body(),
        }
    }

    pub(super) fn page(&self) -> PageObservation<'_> {
        let html = std::str::from_utf8(self.body())
            .unwrap_or_else(|error| panic!("{}: not UTF-8: {error}", self.file));
        PageObservation {
            final_url: self
                .final_url
                .as_deref()
                .unwrap_or_else(|| panic!("{}: a page case needs a final_url", self.file)),
            title: self.title.as_deref().unwrap_or_default(),
            html,
        }
    }

    fn expected_verdict(&self) -> Verdict {
        let facts = ProfileFacts {
            full_name: self.full_name.clone(),
            followers: self.followers,
            posts: self.posts,
        };
        match self.verdict.as_str() {
            "exists" => Verdict::Exists {
                private: false,
                facts,
            },
            "exists_private" => Verdict::Exists {
                private: true,
                facts,
            },
            "not_found" => Verdict::NotFound,
            other => {
                let reason = other
                    .strip_prefix("unknown:")
                    .and_then(UnknownReason::parse)
                    .unwrap_or_else(|| panic!("{}: bad verdict {other:?}", self.file));
                Verdict::unknown(reason)
            }
        }
    }
}

fn cases(manifest: &str) -> Vec<Case> {
    match toml::from_str::<Manifest>(manifest) {
        Ok(manifest) => manifest.case,
        Err(error) => panic!("bad case manifest: {error}"),
    }
}

/// Classifies every case of `rule` in `manifest` and compares with the expectation; there must be one.
pub(super) fn check_rule(manifest: &str, rule: &str, classify: fn(&Case) -> Classified) {
    let cases: Vec<Case> = cases(manifest)
        .into_iter()
        .filter(|case| case.rule == rule)
        .collect();
    assert!(!cases.is_empty(), "rule {rule} has no fixture case");
    for case in &cases {
        let got = classify(case);
        assert_eq!(
            (got.rule, &got.verdict),
            (case.rule.as_str(), &case.expected_verdict()),
            "fixture {} {}",
            case.file,
            case.why.as_deref().unwrap_or_default()
        );
    }
}

/// Rule names are unique, every rule (and the fallback) has a case, and every case names a rule.
pub(super) fn check_coverage(manifest: &str, rule_names: impl IntoIterator<Item = &'static str>) {
    let mut names = BTreeSet::from([UNCLASSIFIED]);
    for name in rule_names {
        assert!(names.insert(name), "rule name {name} is used twice");
    }
    let cases = cases(manifest);
    let covered: BTreeSet<&str> = cases.iter().map(|case| case.rule.as_str()).collect();
    let uncovered: Vec<_> = names.difference(&covered).collect();
    assert!(
        uncovered.is_empty(),
        "rules without a fixture case: {uncovered:?}"
    );
    let unknown: Vec<_> = covered.difference(&names).collect();
    assert!(
        unknown.is_empty(),
        "cases naming no rule of the table: {unknown:?}"
    );
}

#[test]
fn every_fixture_file_is_used_by_a_case() {
    let used: BTreeSet<String> = [INSTAGRAM_WEB_CASES, RAPIDAPI_CASES, PAGE_CASES]
        .into_iter()
        .flat_map(cases)
        .map(|case| case.file)
        .collect();
    let listed: BTreeSet<String> = FILES.iter().map(|(path, _)| (*path).to_owned()).collect();
    let unused: Vec<_> = listed.difference(&used).collect();
    assert!(unused.is_empty(), "fixtures no case uses: {unused:?}");
    let unlisted: Vec<_> = used.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "cases whose file is not in FILES: {unlisted:?}"
    );
}
