//! keyrotor: measures how well multi-key API rotation works.
//!
//! The harness is built in floors, each importing only from the floors below it
//! (`tests/layers.rs` fails on an upward import or a cycle):
//!
//! 1. [`spec`]: what users write (scenario, metric vocabulary);
//! 2. [`measure`]: what is measured (recorder, report model, document blocks);
//! 3. [`drive`]: what drives traffic (workload, driver, app, replicas);
//! 4. [`run`]: one run, in any mode;
//! 5. [`studies`]: sweep, plan, claims, compare;
//! 6. [`output`]: charts, plots, pages, schemas, the files written, the live view;
//! 7. [`cli`]: the command line (`main.rs` only calls it).
//!
//! [`engine`] is the rotation engine applications embed; the Groq mock and the proxy live in
//! their own crates (`mock_groq`, `keyrotor_proxy`).

#![warn(missing_docs)]

pub mod cli;
pub mod drive;
pub mod measure;
pub mod output;
pub mod run;
pub mod spec;
pub mod studies;

/// The rotation engine (the `keyrotor-engine` crate, which apps embed).
pub use keyrotor_engine as engine;
