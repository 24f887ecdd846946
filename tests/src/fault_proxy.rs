//! A loopback HTTP/1.1 proxy in front of DynamoDB Local whose behaviour a test sets: pass
//! through, answer with throttling or 500s, drop connections, or hold requests or responses.
//! Bounded by construction: it serves only loopback and stops with the test's runtime.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// Answer the next N requests with `ProvisionedThroughputExceededException` (HTTP 400).
    Throttle(usize),
    /// Answer the next N requests with `ThrottlingException` (HTTP 400).
    Throttling(usize),
    /// Answer the next N requests with HTTP 500.
    ServerError(usize),
    /// Close every connection without answering (DynamoDB down).
    Drop,
    /// Forward each request, but hold its response this long (DynamoDB slow: the write happens).
    SlowResponse(Duration),
    /// Answer the next N `BatchGetItem`s with every key unprocessed (other requests pass).
    UnprocessedKeys(usize),
}

#[derive(Clone)]
pub struct FaultProxy {
    pub endpoint: String,
    fault: Arc<Mutex<Fault>>,
    seen: Arc<AtomicUsize>,
}

impl FaultProxy {
    pub async fn start(upstream: &str) -> FaultProxy {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let proxy = FaultProxy {
            endpoint,
            fault: Arc::new(Mutex::new(Fault::None)),
            seen: Arc::default(),
        };
        let p = proxy.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (p, upstream) = (p.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = p.serve(conn, &upstream).await;
                });
            }
        });
        proxy
    }

    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }

    /// Requests that reached the proxy so far.
    pub fn seen(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }

    /// Decides what to do with one request, consuming one count of a counted fault.
    fn next_fault(&self, request: &[u8]) -> Fault {
        let mut f = self.fault.lock().unwrap();
        let now = f.clone();
        if let Fault::UnprocessedKeys(_) = now
            && !String::from_utf8_lossy(request).contains("DynamoDB_20120810.BatchGetItem")
        {
            return Fault::None;
        }
        match &mut *f {
            Fault::Throttle(n)
            | Fault::Throttling(n)
            | Fault::ServerError(n)
            | Fault::UnprocessedKeys(n) => {
                *n -= 1;
                if *n == 0 {
                    *f = Fault::None;
                }
            }
            _ => {}
        }
        now
    }

    async fn serve(&self, mut conn: TcpStream, upstream: &str) -> std::io::Result<()> {
        loop {
            let Some(request) = read_message(&mut conn).await? else {
                return Ok(());
            };
            self.seen.fetch_add(1, Ordering::SeqCst);
            match self.next_fault(&request) {
                Fault::Drop => return Ok(()),
                Fault::Throttle(_) => {
                    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;
                    respond(&mut conn, "400 Bad Request", body).await?;
                }
                Fault::Throttling(_) => {
                    let body = r#"{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"}"#;
                    respond(&mut conn, "400 Bad Request", body).await?;
                }
                Fault::UnprocessedKeys(_) => {
                    // Hand every requested key back as unprocessed, as DynamoDB does under load.
                    let body_at = request
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .map_or(0, |i| i + 4);
                    let req: serde_json::Value =
                        serde_json::from_slice(&request[body_at..]).unwrap_or_default();
                    let items = req["RequestItems"].clone();
                    let responses: serde_json::Map<String, serde_json::Value> = items
                        .as_object()
                        .map(|m| {
                            m.keys()
                                .map(|t| (t.clone(), serde_json::json!([])))
                                .collect()
                        })
                        .unwrap_or_default();
                    let body =
                        serde_json::json!({"Responses": responses, "UnprocessedKeys": items})
                            .to_string();
                    respond(&mut conn, "200 OK", &body).await?;
                }
                Fault::ServerError(_) => {
                    let body = r#"{"__type":"com.amazon.coral.availability#InternalServerError","message":"Internal server error"}"#;
                    respond(&mut conn, "500 Internal Server Error", body).await?;
                }
                fault => {
                    let mut up = TcpStream::connect(upstream).await?;
                    up.write_all(&request).await?;
                    let response = read_message(&mut up).await?.unwrap_or_default();
                    if let Fault::SlowResponse(d) = fault {
                        tokio::time::sleep(d).await;
                    }
                    conn.write_all(&response).await?;
                }
            }
        }
    }
}

async fn respond(conn: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let msg = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nx-amzn-requestid: fault-proxy\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(msg.as_bytes()).await
}

/// Reads one HTTP/1.1 message (headers + Content-Length body); None at a clean EOF.
async fn read_message(s: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(buf))
}
