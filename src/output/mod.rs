//! What writes and shows results: charts as data, PNG/SVG plots, HTML pages, JSON
//! Schemas, the one place that writes files, the live view. Imports every layer below.

pub mod artifacts;
pub mod chart;
pub mod html;
pub mod live;
pub mod plots;
pub mod schema;
