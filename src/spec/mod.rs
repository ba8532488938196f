//! What users write: the scenario (its types, checks and builder), the metric vocabulary
//! thresholds name, and a scenario from `run`'s flags. Imports nothing else of the harness.

pub mod flags;
pub mod limits;
pub mod metrics;
pub mod scenario;
pub mod trace;
