//! What is measured and how it reads: the recorder, the report model, quota readings,
//! streaming figures, requests.csv, and the document blocks pages are made of. Imports only
//! [`crate::spec`].

pub mod document;
pub mod quota;
pub mod recorder;
pub mod report;
pub mod requests_csv;
pub mod streaming;
