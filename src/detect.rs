//! Pure classification of Instagram and `RapidAPI` responses into verdicts: named rule tables, no IO.
//!
//! Each source has a table of named rules (`INSTAGRAM_WEB_RULES`, `RAPIDAPI_RULES`, `PROFILE_PAGE_RULES`)
//! evaluated in order over a context parsed once per response; the first rule that matches decides, and
//! `unclassified` is the fallback. Adding a signal means adding one function and one table row, plus a
//! fixture under `tests/fixtures/` and a named test.

#[cfg(test)]
mod fixtures;
mod instagram_web;
mod observation;
mod page;
mod rapidapi;
mod rule;
mod signals;

pub use instagram_web::{
    INSTAGRAM_WEB_RULES, InstagramWebJson, WebContext, classify_instagram_web,
};
pub use observation::{HttpObservation, PageObservation};
pub use page::{PROFILE_PAGE_RULES, PageContext, ProfilePage, classify_profile_page};
pub use rapidapi::{RAPIDAPI_RULES, RapidApiContext, RapidApiJson, classify_rapidapi};
pub use rule::{Classified, Rule, Signals, UNCLASSIFIED};
