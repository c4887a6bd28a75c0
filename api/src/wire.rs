//! The one error shape for the answers hyper writes by itself. A request head hyper cannot
//! parse (too many or too large headers: `431`; a URI over 64 KiB: `414`; a bad
//! `Content-Length`, HTTP/1.0 with chunked encoding, a control character in a header:
//! `400`) is answered by hyper before any service runs, with an empty body and no hook to
//! change it. [`Shaped`] sits between hyper and the socket and recognises that answer as it
//! is written: a `4xx`/`5xx` head whose only headers are `content-length: 0`, `date` and
//! `connection: close`.
//! No answer of the api's own looks like that (every error the router gives has a JSON body
//! and a `content-type`), so what is recognised is exactly hyper's, and it is replaced by
//! the same status with a `{"error", "description"}` body. The connection closes after it,
//! as hyper intends.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// hyper's automatic answer is a status line and two short headers: only the end of a
/// write buffer this long is searched for it.
const MAX_AUTOMATIC_HEAD: usize = 256;

/// A socket whose outgoing automatic error answers get the api's error shape.
pub struct Shaped<S> {
    inner: S,
    /// The shaped answer being written in place of hyper's, and how many of hyper's bytes
    /// it stands for (reported to hyper once the whole replacement is written).
    replacing: Option<Replacement>,
}

struct Replacement {
    bytes: Vec<u8>,
    written: usize,
    stands_for: usize,
}

impl<S> Shaped<S> {
    pub fn new(inner: S) -> Shaped<S> {
        Shaped { inner, replacing: None }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Shaped<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Shaped<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacing.is_none() {
            match automatic_answer(buf) {
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
                // Bytes of an earlier answer come first: write those (a short write, as
                // any socket may make), so the next call starts at the automatic one.
                Some(start) if start > 0 => return Pin::new(&mut this.inner).poll_write(cx, &buf[..start]),
                Some(_) => this.replacing = Some(Replacement { bytes: shaped(buf), written: 0, stands_for: buf.len() }),
            }
        }
        let replacement = this.replacing.as_mut().expect("set above");
        while replacement.written < replacement.bytes.len() {
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &replacement.bytes[replacement.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            replacement.written += n;
        }
        let stands_for = replacement.stands_for;
        this.replacing = None;
        Poll::Ready(Ok(stands_for))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Where hyper's automatic error answer starts in `buf`, when `buf` ends with one.
fn automatic_answer(buf: &[u8]) -> Option<usize> {
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let from = buf.len().saturating_sub(MAX_AUTOMATIC_HEAD);
    let start = from + buf[from..].windows(9).rposition(|w| w == b"HTTP/1.1 ")?;
    let head = std::str::from_utf8(&buf[start..buf.len() - 4]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.get(9..12)?.parse::<u16>().ok()?;
    let mut empty_body = false;
    for line in lines {
        if line.eq_ignore_ascii_case("content-length: 0") {
            empty_body = true;
        } else if !(is_header(line, "date:") || line.eq_ignore_ascii_case("connection: close")) {
            return None;
        }
    }
    ((400..600).contains(&status) && empty_body).then_some(start)
}

fn is_header(line: &str, name: &str) -> bool {
    line.get(..name.len()).is_some_and(|start| start.eq_ignore_ascii_case(name))
}

/// The shaped answer standing for hyper's automatic `head`: its status line and date, a
/// JSON error body, and `connection: close`.
fn shaped(head: &[u8]) -> Vec<u8> {
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(400);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = crate::error::http_layer_body(status);
    let mut out = format!(
        "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for date in lines.filter(|line| is_header(line, "date:")) {
        out.push_str(date);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTOMATIC: &[u8] =
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sun, 01 Nov 2026 10:00:00 GMT\r\n\r\n";

    #[test]
    fn hyper_automatic_answer_is_recognised_alone_or_after_an_earlier_answer() {
        assert_eq!(automatic_answer(AUTOMATIC), Some(0));
        let closing = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(automatic_answer(closing), Some(0));
        let earlier = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(automatic_answer(&[&earlier[..], AUTOMATIC].concat()), Some(earlier.len()));
    }

    #[test]
    fn the_api_own_answers_are_left_alone() {
        for answer in [
            &b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 204 No Content\r\ndate: Sun, 01 Nov 2026 10:00:00 GMT\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ] {
            assert_eq!(automatic_answer(answer), None, "{}", String::from_utf8_lossy(answer));
        }
    }

    #[test]
    fn the_shaped_answer_keeps_status_and_date_and_has_the_error_shape() {
        let shaped = String::from_utf8(shaped(AUTOMATIC)).unwrap();
        let (head, body) = shaped.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{head}");
        assert!(head.contains("\r\ndate: Sun, 01 Nov 2026 10:00:00 GMT"), "{head}");
        assert!(head.contains(&format!("\r\ncontent-length: {}", body.len())), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"], "REQUEST_HEADER_FIELDS_TOO_LARGE");
        assert!(json["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
}
