//! An event fitted from a trace (`keyrotor plan --trace`): the requests of each step of the
//! trace as a profile, its mean sizes as the request sizes, `scale` times the users. The
//! plan of the fitted event is the plan of the trace's profile, its confidence drawn as
//! today's (Poisson arrivals within each step, over seeds).

use std::time::Duration;

use anyhow::bail;

use super::PlanInput;
use crate::spec::trace::Trace;

/// Most steps a fitted profile has ([`crate::spec::limits::PROFILE`]).
const MOST_STEPS: u64 = crate::spec::limits::PROFILE.0 as u64;

/// `event` with its users, queries, length, profile and sizes replaced by what the trace
/// gives, `scale` times the users; and a note saying how it was fitted.
pub fn fitted(trace: &Trace, scale: f64, event: PlanInput) -> anyhow::Result<(PlanInput, String)> {
    if !crate::spec::trace::SCALE.contains(&scale) {
        bail!("--scale is from 0.001 to 1000");
    }
    let summary = crate::spec::trace::scan(trace)?;
    // The finest of 1 minute, 10 minutes and 1 hour that keeps the profile within its steps.
    let step = [60, 600, 3600]
        .map(Duration::from_secs)
        .into_iter()
        .find(|s| summary.span.as_secs() / s.as_secs() < MOST_STEPS)
        .unwrap_or(Duration::from_secs(3600));
    // At most MOST_STEPS even for a span past the limits (a trace's offsets stop at 30 days).
    let steps = (summary.span.as_secs() / step.as_secs() + 1).min(MOST_STEPS);
    let mut counts = vec![0.0; usize::try_from(steps).unwrap_or(usize::MAX)];
    for row in trace.rows()? {
        let row = row?;
        let at = usize::try_from(row.at.as_secs() / step.as_secs()).unwrap_or(usize::MAX);
        if let Some(count) = counts.get_mut(at) {
            *count += 1.0;
        }
    }
    let busiest = counts.iter().copied().fold(0.0, f64::max);
    // Relative weights (a profile's weights are at most 10^6; a step may hold more requests).
    let weights: Vec<f64> = counts.iter().map(|c| c / busiest.max(1.0)).collect();
    let duration = step.saturating_mul(u32::try_from(steps).unwrap_or(u32::MAX));
    let round = |mean: f64| (mean.round() as u64).max(1);
    let note = format!(
        "the event is fitted from the trace {}: {} requests over {} in {} steps of {} (the busiest step {} requests), {}× the users (each request one user's query); arrivals are simulated as Poisson at each step's rate and every request at the trace's mean sizes ({} prompt + {} completion tokens)",
        trace.path.display(),
        summary.rows,
        crate::spec::scenario::human(Duration::from_secs(summary.span.as_secs())),
        counts.len(),
        crate::spec::scenario::human(step),
        busiest,
        scale,
        round(summary.prompt_tokens.mean),
        round(summary.max_tokens.mean),
    );
    let event = PlanInput {
        // Each request a user's one query: `scale` × the trace's requests.
        users: ((summary.rows as f64 * scale).round() as u64).max(1),
        queries_per_user: 1.0,
        duration,
        peak_factor: 1.0,
        profile: weights,
        profile_step: step,
        prompt_tokens: round(summary.prompt_tokens.mean),
        completion_tokens: round(summary.max_tokens.mean),
        ..event
    };
    Ok((event, note))
}
