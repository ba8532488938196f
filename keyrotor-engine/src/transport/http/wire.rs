//! HTTP/1.1 on the wire for the plain transport, as pure functions over bytes: the request
//! it writes, and the framing of the answer it reads (Content-Length, chunked, or until the
//! server closes). Kept free of I/O so that tests and the fuzzer can feed it any bytes.

use std::ops::Range;

use ::http::{HeaderMap, HeaderName, HeaderValue};

/// The most headers an answer may have.
const MAX_HEADERS: usize = 64;
/// The longest answer head accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// The longest answer body accepted.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not HTTP/1.x, or a malformed head.
    #[error("malformed answer head: {0}")]
    Head(String),
    /// A malformed chunk in a chunked body.
    #[error("malformed chunked body")]
    Chunk,
    /// A head or body larger than accepted.
    #[error("answer too large")]
    TooLarge,
    /// The server closed the connection before the answer was complete.
    #[error("connection closed before the answer was complete")]
    Truncated,
}

/// Appends a `POST` of `body` to `out`. `authorization` is the header's whole value.
pub fn encode_request(out: &mut Vec<u8>, path: &str, host: &str, authorization: &str, body: &[u8]) {
    out.extend_from_slice(b"POST ");
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\nauthorization: ");
    out.extend_from_slice(authorization.as_bytes());
    out.extend_from_slice(b"\r\ncontent-type: application/json\r\ncontent-length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
}

/// Whether `value` can go into a header line as is (visible ASCII and spaces, no line breaks).
pub fn is_header_safe(value: &str) -> bool {
    value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

/// The body of a parsed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Where the body lies in the buffer (Content-Length or until close).
    Within(Range<usize>),
    /// A chunked body, put back together.
    Dechunked(Vec<u8>),
}

/// A complete answer at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Body,
    /// Bytes of the buffer the answer took.
    pub consumed: usize,
    /// The connection may carry another request.
    pub keep_alive: bool,
}

/// Parses the answer at the start of `buf`. `Ok(None)`: more bytes are needed. `closed`: the
/// server has closed the connection, so `buf` is all there is. Interim (1xx) answers are
/// skipped.
pub fn parse_answer(buf: &[u8], closed: bool) -> Result<Option<Answer>, WireError> {
    let mut start = 0;
    loop {
        let Some(mut answer) = parse_one(&buf[start..], closed)? else {
            if closed {
                return Err(WireError::Truncated);
            }
            return Ok(None);
        };
        if (100..200).contains(&answer.status) {
            start += answer.consumed;
            continue;
        }
        answer.consumed += start;
        if let Body::Within(range) = &mut answer.body {
            *range = range.start + start..range.end + start;
        }
        return Ok(Some(answer));
    }
}

fn parse_one(buf: &[u8], closed: bool) -> Result<Option<Answer>, WireError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(WireError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(WireError::Head(e.to_string())),
    };
    let status = response.code.unwrap_or(0);
    if status < 100 {
        return Err(WireError::Head(format!("status {status:03}")));
    }
    let (headers, framing) = read_headers(response.headers, response.version == Some(1))?;
    let Some((body, body_len, until_close)) = framing.body(buf, head_len, status, closed)? else {
        return Ok(None);
    };
    Ok(Some(Answer {
        status,
        headers,
        body,
        consumed: head_len + body_len,
        keep_alive: !framing.close && !until_close,
    }))
}

/// How an answer's head says its body ends, and whether the connection closes after it.
#[derive(Default)]
struct Framing {
    length: Option<usize>,
    chunked: bool,
    close: bool,
}

/// The head's headers, checked, and the framing they state.
#[inline]
fn read_headers(
    parsed: &[httparse::Header<'_>],
    http11: bool,
) -> Result<(HeaderMap, Framing), WireError> {
    let mut headers = HeaderMap::with_capacity(parsed.len());
    let mut framing = Framing {
        close: !http11,
        ..Framing::default()
    };
    for header in parsed {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| WireError::Head(format!("bad header name `{}`", header.name)))?;
        let value = HeaderValue::from_bytes(header.value)
            .map_err(|_| WireError::Head(format!("bad value of header `{name}`")))?;
        if name == ::http::header::CONTENT_LENGTH {
            let n = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| WireError::Head("bad content-length".to_owned()))?;
            if framing.length.is_some_and(|m| m != n) {
                return Err(WireError::Head("conflicting content-length".to_owned()));
            }
            framing.length = Some(n);
        } else if name == ::http::header::TRANSFER_ENCODING {
            framing.chunked = value
                .to_str()
                .is_ok_and(|v| v.to_ascii_lowercase().trim_end().ends_with("chunked"));
        } else if name == ::http::header::CONNECTION {
            let v = value.to_str().unwrap_or("").to_ascii_lowercase();
            if v.contains("close") {
                framing.close = true;
            } else if v.contains("keep-alive") {
                framing.close = false;
            }
        }
        headers.append(name, value);
    }
    Ok((headers, framing))
}

impl Framing {
    /// The body after a head of `head_len` bytes, the bytes it took, and whether it ran to
    /// the connection's close; `None` until all of it is in `buf` (`closed`: the peer has
    /// closed, so nothing more will come).
    #[inline]
    fn body(
        &self,
        buf: &[u8],
        head_len: usize,
        status: u16,
        closed: bool,
    ) -> Result<Option<(Body, usize, bool)>, WireError> {
        let rest = &buf[head_len..];
        if (100..200).contains(&status) || status == 204 || status == 304 {
            return Ok(Some((Body::Within(head_len..head_len), 0, false)));
        }
        if self.chunked {
            let dechunked = dechunk(rest)?;
            return Ok(dechunked.map(|(data, used)| (Body::Dechunked(data), used, false)));
        }
        if let Some(n) = self.length {
            if n > MAX_BODY {
                return Err(WireError::TooLarge);
            }
            let whole = rest.len() >= n;
            return Ok(whole.then(|| (Body::Within(head_len..head_len + n), n, false)));
        }
        if rest.len() > MAX_BODY {
            return Err(WireError::TooLarge);
        }
        Ok(closed.then_some((Body::Within(head_len..buf.len()), rest.len(), true)))
    }
}

/// A chunked body at the start of `buf`: its data and the bytes it took, trailers included.
fn dechunk(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, WireError> {
    let mut data = Vec::new();
    let mut at = 0;
    loop {
        let (size_len, size) = match httparse::parse_chunk_size(&buf[at..]) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(WireError::Chunk),
        };
        let size = usize::try_from(size).map_err(|_| WireError::TooLarge)?;
        if data.len().saturating_add(size) > MAX_BODY {
            return Err(WireError::TooLarge);
        }
        at += size_len;
        if size == 0 {
            // Trailers, if any, then the blank line.
            loop {
                let line_end = match buf[at..].windows(2).position(|w| w == b"\r\n") {
                    Some(i) => i,
                    None if buf.len() - at > MAX_HEAD => return Err(WireError::TooLarge),
                    None => return Ok(None),
                };
                at += line_end + 2;
                if line_end == 0 {
                    return Ok(Some((data, at)));
                }
            }
        }
        if buf.len() < at + size + 2 {
            return Ok(None);
        }
        data.extend_from_slice(&buf[at..at + size]);
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return Err(WireError::Chunk);
        }
        at += size + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body<'a>(buf: &'a [u8], answer: &'a Answer) -> &'a [u8] {
        match &answer.body {
            Body::Within(range) => &buf[range.clone()],
            Body::Dechunked(data) => data,
        }
    }

    #[test]
    fn request_has_head_length_and_body() {
        let mut out = Vec::new();
        encode_request(&mut out, "/p", "h:1", "Bearer k", b"{}");
        assert_eq!(
            out,
            b"POST /p HTTP/1.1\r\nhost: h:1\r\nauthorization: Bearer k\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
        );
        assert!(is_header_safe("Bearer gsk_abc"));
        assert!(!is_header_safe("Bearer a\r\nx: y"));
    }

    #[test]
    fn content_length_answer_needs_every_byte() {
        let full = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: 1\r\n\r\nhelloNEXT";
        for cut in 0..full.len() - 4 {
            assert_eq!(parse_answer(&full[..cut], false), Ok(None), "cut at {cut}");
        }
        let answer = parse_answer(full, false).ok().flatten();
        let Some(answer) = answer else {
            panic!("no answer")
        };
        assert_eq!((answer.status, answer.consumed), (200, full.len() - 4));
        assert_eq!(body(full, &answer), b"hello");
        assert_eq!(
            answer.headers.get("x-a").map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        assert!(answer.keep_alive);
    }

    #[test]
    fn chunked_answer_is_put_back_together() {
        let full = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\ndata:\r\n3;x=y\r\n ok\r\n0\r\nt: 1\r\n\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse_answer(&full[..cut], false), Ok(None), "cut at {cut}");
        }
        let Some(answer) = parse_answer(full, false).ok().flatten() else {
            panic!("no answer")
        };
        assert_eq!(body(full, &answer), b"data: ok");
        assert_eq!(answer.consumed, full.len());
        let bad = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabcd\r\n";
        assert_eq!(parse_answer(bad, false), Err(WireError::Chunk));
    }

    #[test]
    fn close_framing_interim_answers_and_truncation() {
        let until_close = b"HTTP/1.1 200 OK\r\n\r\npartial";
        assert_eq!(parse_answer(until_close, false), Ok(None));
        let Some(answer) = parse_answer(until_close, true).ok().flatten() else {
            panic!("no answer")
        };
        assert_eq!(body(until_close, &answer), b"partial");
        assert!(!answer.keep_alive);

        let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
        let Some(answer) = parse_answer(interim, false).ok().flatten() else {
            panic!("no answer")
        };
        assert_eq!((answer.status, body(interim, &answer)), (429, &b"{}"[..]));
        assert!(!answer.keep_alive);

        let short = b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nabc";
        assert_eq!(parse_answer(short, true), Err(WireError::Truncated));
        assert_eq!(parse_answer(b"", true), Err(WireError::Truncated));
        assert!(matches!(
            parse_answer(b"SSH-2.0-x\r\n\r\n", false),
            Err(WireError::Head(_))
        ));
        assert!(matches!(
            parse_answer(b"HTTP/1.1 000 OK\r\ncontent-length: 0\r\n\r\n", false),
            Err(WireError::Head(_))
        ));
        let conflicting = b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab";
        assert!(matches!(
            parse_answer(conflicting, false),
            Err(WireError::Head(_))
        ));
    }
}
