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
    let (file, len) = open_regular(path)?;
    if len > cap {
        return Err(too_large(len, cap));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
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

/// A regular file opened for reading, and its length when opened; what is not one (a
/// directory, a device such as `/dev/zero`, a pipe) is an `InvalidInput` error saying so,
/// found before opening (opening a named pipe would wait for a writer). For a file read in
/// pieces rather than whole (a trace of any size); [`read_text`] reads whole ones.
pub fn open_regular(path: &Path) -> io::Result<(std::fs::File, u64)> {
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
    Ok((std::fs::File::open(path)?, meta.len()))
}

/// The 1-based line of byte `offset` in `text` (its last line past the end), for errors
/// that name where in a file a value is.
///
/// ```
/// assert_eq!(groq_wire::file::line_of("a\nb\nc", 4), 3);
/// assert_eq!(groq_wire::file::line_of("a\nb", 99), 2);
/// ```
pub fn line_of(text: &str, offset: usize) -> usize {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    before.iter().filter(|&&b| b == b'\n').count() + 1
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
