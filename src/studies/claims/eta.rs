//! How long the rest of a claims check will take.
//!
//! The steps differ a lot in cost (a capacity search runs a dozen runs, a seed's row reuses
//! a run another row already made, a sizing row simulates a day), so one mean over all steps
//! would mislead. [`Eta`] keeps each kind's own mean and gives an estimate only once every
//! kind still to come has been timed at least once; before that it says nothing.

use std::time::{Duration, Instant};

/// The kinds of step, each timed apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A capacity search ("5× capacity", "150 req/min").
    Capacity,
    /// A seed's claim judged on its run.
    Seed,
    /// A sizing row (a simulated day of an event).
    Sizing,
}

const KINDS: usize = 3;

impl Kind {
    pub(super) fn index(self) -> usize {
        match self {
            Kind::Capacity => 0,
            Kind::Seed => 1,
            Kind::Sizing => 2,
        }
    }
}

/// Each kind's steps still to finish and the time its finished ones took.
#[derive(Debug)]
pub(super) struct Eta {
    left: [usize; KINDS],
    spent: [Duration; KINDS],
    timed: [u32; KINDS],
    current: Option<(Kind, Instant)>,
}

impl Eta {
    /// An estimate over `capacity`, `seed` and `sizing` steps to come.
    pub(super) fn new(capacity: usize, seed: usize, sizing: usize) -> Self {
        Eta {
            left: [capacity, seed, sizing],
            spent: [Duration::ZERO; KINDS],
            timed: [0; KINDS],
            current: None,
        }
    }

    /// A step of `kind` starts at `now` (the one before it ended then). Returns the time
    /// left, this step included, or `None` while some kind still to come has no timed step.
    pub(super) fn start(&mut self, kind: Kind, now: Instant) -> Option<Duration> {
        self.close(now);
        self.current = Some((kind, now));
        self.left_time()
    }

    fn close(&mut self, now: Instant) {
        if let Some((kind, started)) = self.current.take() {
            let i = kind.index();
            self.spent[i] = self.spent[i].saturating_add(now.saturating_duration_since(started));
            self.timed[i] = self.timed[i].saturating_add(1);
            self.left[i] = self.left[i].saturating_sub(1);
        }
    }

    fn left_time(&self) -> Option<Duration> {
        let mut total = Duration::ZERO;
        for i in 0..KINDS {
            if self.left[i] == 0 {
                continue;
            }
            if self.timed[i] == 0 {
                return None;
            }
            let mean = self.spent[i] / self.timed[i];
            let steps = u32::try_from(self.left[i]).unwrap_or(u32::MAX);
            total = total.saturating_add(mean.saturating_mul(steps));
        }
        Some(total)
    }
}

/// "about 2 min 10 s left", rounded to what a person reads (whole seconds under a minute,
/// ten seconds above).
pub(super) fn said(left: Duration) -> String {
    let s = left.as_secs();
    if s < 1 {
        "under a second left".into()
    } else if s < 60 {
        format!("about {s} s left")
    } else {
        let s = (s + 5) / 10 * 10;
        match (s / 60, s % 60) {
            (m, 0) => format!("about {m} min left"),
            (m, r) => format!("about {m} min {r} s left"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_timed_apart_and_no_estimate_comes_before_every_kind_has_a_sample() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // 2 capacity steps of 10 s, 2 seed steps of 1 s, 2 sizing steps of 30 s.
        let mut eta = Eta::new(2, 2, 2);
        assert_eq!(eta.start(Kind::Capacity, at(0)), None);
        assert_eq!(
            eta.start(Kind::Capacity, at(10)),
            None,
            "seeds and sizing untimed"
        );
        assert_eq!(eta.start(Kind::Seed, at(20)), None);
        assert_eq!(eta.start(Kind::Seed, at(21)), None, "sizing untimed");
        assert_eq!(eta.start(Kind::Sizing, at(22)), None);
        // One sizing step timed (30 s); this one and nothing else left: 30 s.
        assert_eq!(
            eta.start(Kind::Sizing, at(52)),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn the_estimate_weighs_the_kinds_still_to_come_by_their_own_means() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // Two eras: 2 capacity, 2 seed, 1 sizing each.
        let mut eta = Eta::new(4, 4, 2);
        eta.start(Kind::Capacity, at(0));
        eta.start(Kind::Capacity, at(10));
        eta.start(Kind::Seed, at(20));
        eta.start(Kind::Seed, at(22));
        eta.start(Kind::Sizing, at(24));
        // Era 1 done: 2 capacity × 10 s + 2 seeds × 2 s + 1 sizing × 60 s = 84 s left.
        assert_eq!(
            eta.start(Kind::Capacity, at(84)),
            Some(Duration::from_secs(84))
        );
        // One more capacity step: 1 × 10 + 2 × 2 + 1 × 60 = 74 s (one mean over all six
        // timed steps, 94 s / 6 × 4 steps, would say 63 s).
        assert_eq!(
            eta.start(Kind::Capacity, at(94)),
            Some(Duration::from_secs(74))
        );
    }

    #[test]
    fn the_time_left_reads_as_a_person_says_it() {
        assert_eq!(said(Duration::from_millis(300)), "under a second left");
        assert_eq!(said(Duration::from_secs(42)), "about 42 s left");
        assert_eq!(said(Duration::from_secs(120)), "about 2 min left");
        assert_eq!(said(Duration::from_secs(133)), "about 2 min 10 s left");
        assert_eq!(said(Duration::from_secs(176)), "about 3 min left");
    }
}
