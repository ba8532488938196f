//! Files read whole, within a cap: every file keyrotor reads (scenario, mock config, claims
//! file, plan event, key file, reports to compare) goes through [`read_text`], so `/dev/zero`,
//! a named pipe or a file of gigabytes is refused with a sentence instead of taking the
//! machine's memory.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("groq-wire-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("a.toml");
//! std::fs::write(&path, "name = \"x\"\n").unwrap();
//! assert_eq!(groq_wire::file::read_text(&path, 1024).unwrap(), "name = \"x\"\n");
//! let err = groq_wire::file::read_text(&path, 4).unwrap_err();
//! assert!(err.to_string().contains("more than the 4 bytes"), "{err}");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::io::{self, Read as _};
use std::path::Path;

/// The cap for a file a person writes (scenario, config, claims file, plan event): 1 MiB,
/// a hundred times the largest one shipped.
pub const TEXT_CAP: u64 = 1 << 20;

/// The text of a regular file of at most `cap` bytes, read no further than `cap` whatever it
/// grows to meanwhile. What is not a regular file (a directory, a device such as `/dev/zero`,
/// a pipe), a larger file and text that is not UTF-8 are `InvalidInput`/`InvalidData` errors
/// whose message says so; the caller adds the path.
pub fn read_text(path: &Path, cap: u64) -> io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "a device, pipe or socket"
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what}, not a regular file"),
        ));
    }
    if meta.len() > cap {
        return Err(too_large(meta.len(), cap));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::fs::File::open(path)?
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > cap {
        return Err(too_large(read, cap));
    }
    String::from_utf8(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        )
    })
}

fn too_large(len: u64, cap: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{len} bytes or more, more than the {cap} bytes such a file may have"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, body: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("groq-wire-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        path
    }

    #[test]
    fn a_device_is_refused_before_a_byte_is_read() {
        let err = read_text(Path::new("/dev/zero"), TEXT_CAP).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn a_directory_is_refused() {
        let err = read_text(&std::env::temp_dir(), TEXT_CAP).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    #[test]
    fn a_file_over_the_cap_is_refused_and_one_at_it_is_read() {
        let path = temp("cap.txt", &[b'a'; 100]);
        assert_eq!(read_text(&path, 100).unwrap().len(), 100);
        let err = read_text(&path, 99).unwrap_err();
        assert!(err.to_string().contains("100 bytes"), "{err}");
    }

    #[test]
    fn bytes_that_are_not_utf8_say_where() {
        let path = temp("latin1.txt", b"ab\xe9");
        let err = read_text(&path, 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("byte 2"), "{err}");
    }
}
