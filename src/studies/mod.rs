//! Studies made of runs: a capacity sweep, a key plan, the seeds' claims, a comparison of
//! two reports. Import [`crate::run`] and the layers below.

pub mod claims;
pub mod compare;
mod parallel;
pub mod plan;
pub mod sweep;
