//! Argument groups more than one command takes, declared once.

/// `--as-of`: the day whose Groq catalog applies.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct AsOf {
    /// The day whose Groq catalog applies (YYYY-MM-DD): which models exist and their
    /// limits; default today. Replaces a scenario file's `as_of`.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
}
