//! Figures, their targets and the quick-mode gate; the printed table and the JSON file.

use serde_json::{Value, json};
use std::time::Duration;

/// Which side of the target a figure must stay on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The figure must be at most the target.
    AtMost,
    /// The figure must be at least the target.
    AtLeast,
}

/// How far past its target a figure may drift in quick mode before the run fails (20 %).
pub const QUICK_SLACK: f64 = 0.20;

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Figure {
    pub id: String,
    pub what: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: Option<(Bound, f64)>,
    pub note: String,
}

impl Figure {
    pub fn new(
        id: impl Into<String>,
        what: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Self {
        Figure {
            id: id.into(),
            what: what.into(),
            value,
            unit,
            target: None,
            note: String::new(),
        }
    }

    pub fn at_most(mut self, target: f64) -> Self {
        self.target = Some((Bound::AtMost, target));
        self
    }

    pub fn at_least(mut self, target: f64) -> Self {
        self.target = Some((Bound::AtLeast, target));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Meets the target (figures without one always do; a NaN never does).
    pub fn meets(&self) -> bool {
        self.within(0.0)
    }

    /// Within the target widened by `slack` (a fraction): the quick-mode gate.
    pub fn within(&self, slack: f64) -> bool {
        match self.target {
            None => !self.value.is_nan(),
            Some((Bound::AtMost, t)) => self.value <= t * (1.0 + slack),
            Some((Bound::AtLeast, t)) => self.value >= t / (1.0 + slack),
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            None => "—".into(),
            Some((Bound::AtMost, t)) => format!("≤ {}", fmt(t)),
            Some((Bound::AtLeast, t)) => format!("≥ {}", fmt(t)),
        }
    }

    fn status(&self) -> &'static str {
        match (self.target.is_some(), self.meets()) {
            (_, false) if self.value.is_nan() => "ERROR",
            (false, _) => "info",
            (true, true) => "ok",
            (true, false) => "MISS",
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "what": self.what,
            "value": if self.value.is_finite() { json!(self.value) } else { Value::Null },
            "unit": self.unit,
            "target": self.target.map(|(b, t)| json!({
                "bound": match b { Bound::AtMost => "at_most", Bound::AtLeast => "at_least" },
                "value": t,
            })),
            "meets_target": self.meets(),
            "note": self.note,
        })
    }
}

/// A number with as many decimals as it deserves.
pub fn fmt(v: f64) -> String {
    if v.is_nan() {
        "n/a".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The table, as Markdown (it goes into the README as is).
pub fn table(figures: &[Figure]) -> String {
    let mut out = String::from(
        "| id | figure | value | target | status | note |\n|---|---|---|---|---|---|\n",
    );
    for f in figures {
        out.push_str(&format!(
            "| {} | {} | {} {} | {} | {} | {} |\n",
            f.id,
            f.what,
            fmt(f.value),
            f.unit,
            f.target_text(),
            f.status(),
            f.note
        ));
    }
    out
}

/// The median of some durations (the upper one of an even count).
pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}
