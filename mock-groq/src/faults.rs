//! Fault injection: which configured fault, if any, hits a request.
//!
//! Rules are tried in config order; a rule matches when the request's organisation and the
//! mock's clock fit it, and then fires with its probability (one draw from the request's
//! RNG). The first rule that fires wins.

use std::time::Duration;

use rand::Rng;
use rand::rngs::SmallRng;

use crate::config::Fault;

/// The configured fault rules, with organisation names resolved to indices.
pub struct Faults {
    rules: Vec<(Fault, Option<usize>)>,
}

impl Faults {
    /// Compiles rules; `org_index` maps an organisation id to its index.
    pub fn new(rules: &[Fault], org_index: impl Fn(&str) -> Option<usize>) -> Self {
        Self {
            rules: rules
                .iter()
                .map(|f| (f.clone(), f.org.as_deref().and_then(&org_index)))
                .collect(),
        }
    }

    /// The fault that hits a request of organisation `org` at `now`, if any.
    pub fn pick(&self, now: Duration, org: usize, rng: &mut SmallRng) -> Option<&Fault> {
        self.rules.iter().find_map(|(fault, only_org)| {
            let active = fault.from.is_none_or(|from| now >= from)
                && fault.until.is_none_or(|until| now < until)
                && only_org.is_none_or(|o| o == org);
            (active && (fault.probability >= 1.0 || rng.random::<f64>() < fault.probability))
                .then_some(fault)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FaultKind;
    use rand::SeedableRng;

    fn fault(kind: FaultKind, probability: f64) -> Fault {
        Fault {
            kind,
            probability,
            from: Some(Duration::from_secs(10)),
            until: Some(Duration::from_secs(20)),
            org: Some("b".to_owned()),
            duration: Duration::from_secs(1),
        }
    }

    #[test]
    fn respects_window_org_and_probability() {
        let faults = Faults::new(&[fault(FaultKind::OverCapacity, 0.3)], |id| {
            (id == "b").then_some(1)
        });
        let mut rng = SmallRng::seed_from_u64(9);
        let at = Duration::from_secs(15);
        assert!(faults.pick(Duration::from_secs(5), 1, &mut rng).is_none());
        assert!(faults.pick(Duration::from_secs(20), 1, &mut rng).is_none());
        assert!(faults.pick(at, 0, &mut rng).is_none());
        let hits = (0..10_000)
            .filter(|_| faults.pick(at, 1, &mut rng).is_some())
            .count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
    }
}
