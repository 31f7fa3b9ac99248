//! The machinery every rule table shares: a named rule, the first-match evaluator and its fallback.

use crate::domain::{UnknownReason, Verdict};

/// Name reported when no rule of a table matches; the verdict is then `Unknown(Unclassified)`.
pub const UNCLASSIFIED: &str = "unclassified";

/// A kind of response whose rules share one pre-parsed context.
///
/// The context borrows the response, so it is a family of types over the response's lifetime; the
/// implementors are uninhabited marker types naming the source.
pub trait Signals {
    /// What the rules of this source receive, built once per classification.
    type Context<'a>;
}

/// One named detection rule: `matches` returns a verdict when its signal is present.
pub struct Rule<S: Signals> {
    /// Stable name, logged and stored in the probe history.
    pub name: &'static str,
    pub matches: for<'a, 'b> fn(&'b S::Context<'a>) -> Option<Verdict>,
}

impl<S: Signals> Rule<S> {
    /// Builds a table row. Call it through a concrete alias (`type WebRule = Rule<InstagramWebJson>`):
    /// when `S` is only inferred, rustc cannot normalise `S::Context` inside the fn pointer type.
    pub const fn new(
        name: &'static str,
        matches: for<'a, 'b> fn(&'b S::Context<'a>) -> Option<Verdict>,
    ) -> Self {
        Rule { name, matches }
    }
}

/// The verdict of a classification and the name of the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub verdict: Verdict,
    pub rule: &'static str,
}

/// Evaluates `rules` in order; the first match wins, otherwise `unclassified`.
pub(super) fn first_match<S: Signals>(rules: &[Rule<S>], context: &S::Context<'_>) -> Classified {
    rules
        .iter()
        .find_map(|rule| {
            (rule.matches)(context).map(|verdict| Classified {
                verdict,
                rule: rule.name,
            })
        })
        .unwrap_or(Classified {
            verdict: Verdict::unknown(UnknownReason::Unclassified),
            rule: UNCLASSIFIED,
        })
}
