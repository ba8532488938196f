//! `keyrotor schema`: the JSON Schemas of the documents keyrotor writes.

use std::path::PathBuf;

use super::terminal::print_out;

/// Options of `keyrotor schema`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which document's schema to print.
    #[arg(value_parser = ["report", "sweep", "plan", "claims"], default_value = "report")]
    pub document: String,
    /// Write every schema into this folder as `<document>.schema.json` instead.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
}

/// `keyrotor schema`: writes every schema into `write`, or prints the one named `document`.
pub(super) fn schema_command(args: &SchemaArgs) -> anyhow::Result<()> {
    let (document, write) = (args.document.as_str(), args.write.as_deref());
    match write {
        Some(dir) => {
            for path in crate::output::schema::write(dir)? {
                eprintln!("wrote {path}");
            }
        }
        None => {
            let schemas = crate::output::schema::all();
            let (_, schema) = schemas
                .iter()
                .find(|(name, _)| *name == document)
                .ok_or_else(|| anyhow::anyhow!("no schema named {document}"))?;
            print_out(crate::output::schema::text(schema)?)?;
        }
    }
    Ok(())
}
