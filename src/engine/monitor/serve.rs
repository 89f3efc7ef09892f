//! `assay monitor --serve ADDR`: a small, bounded HTTP endpoint for Prometheus to scrape.
//! Plain `std::net` (no HTTP crate): one connection at a time on one thread, 5-second read
//! and write timeouts, requests capped at 8 KiB, `GET /metrics` (and `/` with a pointer to
//! it) only, every response closes its connection. The metrics text comes from a callback
//! run per scrape, which re-reads the log when it has grown.

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// `PORT`, `:PORT` or `HOST:PORT`; the host defaults to 127.0.0.1 (loopback only).
pub fn parse_addr(s: &str) -> Result<SocketAddr> {
    let t = s.trim();
    let full = if let Some(port) = t.strip_prefix(':') {
        format!("127.0.0.1:{port}")
    } else if t.chars().all(|c| c.is_ascii_digit()) && !t.is_empty() {
        format!("127.0.0.1:{t}")
    } else {
        t.to_string()
    };
    full.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            EngineError::usage(format!(
                "--serve '{s}' is not an address: use PORT, :PORT or HOST:PORT (e.g. 127.0.0.1:9464)"
            ))
        })
}

/// Binds the listening socket; an address in use is bad input (exit 2).
pub fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).map_err(|e| {
        if e.kind() == IoKind::AddrInUse {
            EngineError::usage(format!(
                "--serve {addr}: the port is in use by another program; choose another port"
            ))
        } else {
            EngineError::usage(format!("--serve {addr}: cannot listen: {e}"))
        }
    })
}

/// Serves until `stop` is cancelled or `max_time` has passed.
pub fn serve(
    listener: &TcpListener,
    stop: &Progress,
    max_time: Option<Duration>,
    mut metrics: impl FnMut() -> String,
) -> Result<()> {
    listener
        .set_nonblocking(true)
        .map_err(|e| EngineError::internal(format!("listener: {e}")))?;
    let started = Instant::now();
    loop {
        if stop.is_cancelled() || max_time.is_some_and(|m| started.elapsed() >= m) {
            return Ok(());
        }
        match listener.accept() {
            Ok((stream, _)) => {
                // A failed connection (timeout, reset) only ends that connection.
                let _ = handle(stream, &mut metrics);
            }
            Err(e) if e.kind() == IoKind::WouldBlock || e.kind() == IoKind::Interrupted => {
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(e) => return Err(EngineError::internal(format!("accept: {e}"))),
        }
    }
}

fn handle(mut stream: TcpStream, metrics: &mut impl FnMut() -> String) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(READ_TIMEOUT))?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_REQUEST_BYTES {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "request too large\n",
            );
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics") => {
            let body = metrics();
            respond(
                &mut stream,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                &body,
            )
        }
        ("GET", "/") => respond(
            &mut stream,
            "200 OK",
            "text/plain; charset=utf-8",
            "assay monitor: metrics at /metrics\n",
        ),
        ("GET", _) => respond(&mut stream, "404 Not Found", "text/plain", "not found\n"),
        _ => respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n",
        ),
    }
}

fn respond(stream: &mut TcpStream, status: &str, ctype: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_default_to_loopback() {
        assert_eq!(parse_addr("9464").ok(), "127.0.0.1:9464".parse().ok());
        assert_eq!(parse_addr(":9464").ok(), "127.0.0.1:9464".parse().ok());
        assert!(parse_addr("not an address").is_err());
    }
}
