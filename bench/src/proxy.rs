//! A loopback TCP proxy in front of DynamoDB Local that counts the requests passing through it
//! per operation (the `X-Amz-Target` header of each HTTP request): what a function process
//! sends, seen from outside it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TARGET: &[u8] = b"x-amz-target: dynamodb_20120810.";

#[derive(Clone)]
pub struct CountingProxy {
    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB`.
    pub endpoint: String,
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

impl CountingProxy {
    /// Listens on loopback and forwards every connection to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> std::io::Result<CountingProxy> {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let counts = Arc::<Mutex<BTreeMap<String, usize>>>::default();
        let c = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (c, upstream) = (c.clone(), upstream.clone());
                tokio::spawn(async move {
                    if let Ok(up) = TcpStream::connect(&upstream).await {
                        let _ = forward(conn, up, c).await;
                    }
                });
            }
        });
        Ok(CountingProxy {
            endpoint,
            counts,
            task: Arc::new(task),
        })
    }

    /// The requests counted since the last call, per operation, and start again.
    pub fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

async fn forward(
    client: TcpStream,
    upstream: TcpStream,
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
) -> std::io::Result<()> {
    let (mut cr, mut cw) = client.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    let answers = tokio::spawn(async move { tokio::io::copy(&mut ur, &mut cw).await });
    let mut buf = vec![0u8; 64 * 1024];
    // What is not yet scanned: a header line may arrive split over two reads.
    let mut window: Vec<u8> = Vec::new();
    loop {
        let n = cr.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        uw.write_all(&buf[..n]).await?;
        window.extend_from_slice(&buf[..n]);
        for op in scan(&mut window) {
            *counts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(op)
                .or_default() += 1;
        }
    }
    let _ = uw.shutdown().await;
    let _ = answers.await;
    Ok(())
}

/// The operations named by the complete `X-Amz-Target` lines in `window` (header names are
/// case-insensitive), which keeps only what may still begin one.
fn scan(window: &mut Vec<u8>) -> Vec<String> {
    let mut ops = Vec::new();
    let mut from = 0;
    while let Some(at) = find(&window[from..], TARGET) {
        let start = from + at + TARGET.len();
        let Some(len) = window[start..].iter().position(|b| *b == b'\r') else {
            // The line continues in the next read.
            window.drain(..from + at);
            return ops;
        };
        ops.push(String::from_utf8_lossy(&window[start..start + len]).into_owned());
        from = start + len;
    }
    let keep = window.len().saturating_sub(TARGET.len()).max(from);
    window.drain(..keep);
    ops
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_are_counted_across_reads() {
        let mut w = Vec::new();
        let req =
            b"POST / HTTP/1.1\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\nhost: x\r\n\r\n{}";
        let mut ops = Vec::new();
        for chunk in req.chunks(7).chain(req.chunks(30)) {
            w.extend_from_slice(chunk);
            ops.extend(scan(&mut w));
        }
        assert_eq!(ops, ["GetItem", "GetItem"]);
        assert!(w.len() <= TARGET.len());
    }
}
