//! An HTTP/1.1 client that sends a request exactly as written: any method, a request target
//! with `..`, `%2e%2e` or `%2F` left as they are (URL libraries normalise them away), any
//! header bytes, any body. One connection per request, closed by the answer.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub method: String,
    /// The request target as sent: path and query, already encoded as the caller wants.
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How long one exchange may take before it counts as unanswered.
const DEADLINE: Duration = Duration::from_secs(30);

/// Sends `request` to `address` and reads the whole answer.
pub async fn send(address: SocketAddr, request: &RawRequest) -> Result<RawResponse, String> {
    tokio::time::timeout(DEADLINE, exchange(address, request))
        .await
        .map_err(|_| format!("no answer within {DEADLINE:?}"))?
}

async fn exchange(address: SocketAddr, request: &RawRequest) -> Result<RawResponse, String> {
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ncontent-length: {}\r\n",
        request.method,
        request.target,
        request.body.len()
    )
    .into_bytes();
    for (name, value) in &request.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stream
        .write_all(&head)
        .await
        .map_err(|e| format!("write: {e}"))?;
    // A server may answer before it reads a body it refuses: what it answered still counts.
    let sent_body = stream.write_all(&request.body).await;
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw).await;
    if raw.is_empty() {
        return Err(format!(
            "no answer (body write: {sent_body:?}, read: {read:?})"
        ));
    }
    parse(&raw, request.method == "HEAD")
}

fn parse(raw: &[u8], head_only: bool) -> Result<RawResponse, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("an answer without the end of its head")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|e| format!("head: {e}"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if head_only {
        Vec::new()
    } else if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk without its size line")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or("a chunk cut short")?;
        body.extend_from_slice(chunk);
        rest = rest.get(size + 2..).ok_or("a chunk without its end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_with_its_headers_and_a_chunked_body() {
        let raw = b"HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n2\r\n\"}\r\n0\r\n\r\n";
        let response = parse(raw, false).expect("parses");
        assert_eq!(response.status, 404);
        assert_eq!(
            response.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(response.body, b"{\"a\"}");
    }
}
