//! GraphQL requests to AppSync signed with SigV4 (service `appsync`): the one signer and HTTPS
//! client of the workspace.
//!
//! - An IAM principal's own credentials from the standard AWS chain ([`IamGraphql::from_sdk`]):
//!   the note publisher's role calling the internal `publishNoteChange`, an operator's
//!   `tenantctl suspend` calling `invalidateTenantSubscriptions` (with or without a session
//!   token).
//! - Credentials given by the caller ([`IamGraphql::with_credentials`]): notes-client's
//!   Identity Pool credentials, traded for a Cognito id token.
//!
//! [`IamGraphql::execute`] answers a request's `data` (anything else is an [`Error`]);
//! [`IamGraphql::post`] answers the status and body as they are, for a client that shows them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

// What a caller needs to give credentials and read an answer, without depending on the crates.
pub use aws_credential_types::Credentials;
pub use hyper::body::Bytes;

/// AppSync's signing name.
pub const SERVICE: &str = "appsync";

/// One request, signing and answer included, unless [`IamGraphql::timeout`] says otherwise: the
/// note publisher's budget per publish counts on it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL or the TLS set-up.
    #[error("{0}")]
    Config(String),
    /// No credentials, or a request SigV4 cannot sign.
    #[error("cannot sign the request: {0}")]
    Signing(String),
    /// No connection, no answer within the timeout, or a broken one.
    #[error("POST {url}: {message}")]
    Http { url: String, message: String },
    /// AppSync answered with GraphQL errors (or without data): `errorType message`, joined.
    #[error("HTTP {status}: {errors}")]
    Refused { status: u16, errors: String },
}

/// A client of one AppSync GraphQL endpoint, signing as the principal of `credentials`.
pub struct IamGraphql {
    url: http::Uri,
    host: String,
    region: String,
    credentials: SharedCredentialsProvider,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl IamGraphql {
    /// The region and credentials of an SDK configuration (`aws_config::load_from_env`).
    pub fn from_sdk(sdk: &aws_types::SdkConfig, url: &str) -> Result<Self, Error> {
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| Error::Config("no AWS region configured (AWS_REGION)".into()))?;
        let credentials = sdk
            .credentials_provider()
            .ok_or_else(|| Error::Config("no AWS credentials provider configured".into()))?;
        Self::new(url, region, credentials)
    }

    /// Signing with `credentials` as they are (no chain, no refresh): credentials the caller
    /// obtained itself, e.g. from a Cognito Identity Pool.
    pub fn with_credentials(
        url: &str,
        region: String,
        credentials: Credentials,
    ) -> Result<Self, Error> {
        Self::new(url, region, SharedCredentialsProvider::new(credentials))
    }

    /// Signing with whatever `credentials` provides at each request. The system's root
    /// certificates are loaded only for an `https://` URL.
    pub fn new(
        url: &str,
        region: String,
        credentials: SharedCredentialsProvider,
    ) -> Result<Self, Error> {
        let parsed: http::Uri = url
            .parse()
            .map_err(|e| Error::Config(format!("GraphQL URL {url:?}: {e}")))?;
        let host = parsed
            .authority()
            .ok_or_else(|| Error::Config(format!("GraphQL URL {url:?} has no host")))?
            .as_str()
            .to_owned();
        let mut roots = rustls::RootCertStore::empty();
        if parsed.scheme_str() == Some("https") {
            for cert in rustls_native_certs::load_native_certs().certs {
                // A certificate the store cannot parse is skipped, as browsers do.
                let _ = roots.add(cert);
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(IamGraphql {
            url: parsed,
            host,
            region,
            credentials,
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout: REQUEST_TIMEOUT,
        })
    }

    /// The longest one request may take, signing to answer ([`REQUEST_TIMEOUT`] by default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The endpoint.
    pub fn url(&self) -> &http::Uri {
        &self.url
    }

    /// The POST of `body` (JSON `{"query", "variables"}`) signed at `time`: `host` and
    /// `content-type` signed along with SigV4's own `x-amz-date` and `x-amz-security-token`.
    pub async fn signed_request(
        &self,
        body: Vec<u8>,
        time: SystemTime,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let sig = |e: &dyn std::fmt::Display| Error::Signing(e.to_string());
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(self.url.clone())
            .header(http::header::HOST, &self.host)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| sig(&e))?;
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| Error::Signing(format!("AWS credentials: {e}")))?;
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| sig(&e))?
            .into();
        let headers = request
            .headers()
            .iter()
            .map(|(n, v)| v.to_str().map(|v| (n.as_str(), v)).map_err(|e| sig(&e)))
            .collect::<Result<Vec<_>, _>>()?;
        let uri = request.uri().to_string();
        let signable = SignableRequest::new(
            request.method().as_str(),
            uri,
            headers.into_iter(),
            SignableBody::Bytes(request.body()),
        )
        .map_err(|e| sig(&e))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| sig(&e))?.into_parts();
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }

    /// Runs `query` and answers its `data`; GraphQL errors and refusals are [`Error::Refused`].
    pub async fn execute(&self, query: &str, variables: Value) -> Result<Value, Error> {
        let body = serde_json::to_vec(&json!({"query": query, "variables": variables}))
            .map_err(|e| Error::Signing(e.to_string()))?;
        let (status, bytes) = self.post(body).await?;
        answer(status, &bytes)
    }

    /// POSTs `body` signed now; the status and the whole body of the answer, whatever they are.
    pub async fn post(&self, body: Vec<u8>) -> Result<(u16, Bytes), Error> {
        let request = self.signed_request(body, SystemTime::now()).await?;
        let url = self.url.to_string();
        let http_err = |message: String| Error::Http {
            url: url.clone(),
            message,
        };
        let request = request.map(|b| Full::new(Bytes::from(b)));
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| http_err(format!("no answer within {:?}", self.timeout)))?
            .map_err(|e| http_err(chain(&e)))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| http_err(chain(&e)))?
            .to_bytes();
        Ok((status, bytes))
    }
}

fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `data` of an HTTP 200 answer without GraphQL errors; anything else is a refusal naming each
/// error's type and (shortened) message.
pub fn answer(status: u16, body: &[u8]) -> Result<Value, Error> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let errors = v["errors"].as_array().filter(|e| !e.is_empty());
    if status == 200 && errors.is_none() && v["data"].is_object() {
        return Ok(v["data"].clone());
    }
    let errors = match errors {
        Some(errors) => errors
            .iter()
            .map(|e| {
                let msg: String = e["message"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect();
                format!("{} {msg}", e["errorType"].as_str().unwrap_or("-"))
            })
            .collect::<Vec<_>>()
            .join("; "),
        None => String::from_utf8_lossy(body).chars().take(200).collect(),
    };
    Err(Error::Refused { status, errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(token: Option<&str>) -> IamGraphql {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            token.map(str::to_owned),
            None,
            "test",
        );
        IamGraphql::new(
            "https://example.appsync-api.eu-central-1.amazonaws.com/graphql",
            "eu-central-1".into(),
            SharedCredentialsProvider::new(creds),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn requests_are_signed_for_appsync_with_or_without_a_session_token() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let body = json!({"query": "mutation { x }", "variables": {}});
        for token in [Some("session"), None] {
            let bytes = serde_json::to_vec(&body).unwrap();
            let req = client(token).signed_request(bytes, time).await.unwrap();
            let h = |n: &str| req.headers().get(n).map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(
                h("host").as_deref(),
                Some("example.appsync-api.eu-central-1.amazonaws.com")
            );
            assert_eq!(h("x-amz-security-token").as_deref(), token);
            let auth = h("authorization").unwrap();
            assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-central-1/appsync/aws4_request, "), "{auth}");
            assert_eq!(serde_json::from_slice::<Value>(req.body()).unwrap(), body);
        }
    }

    #[tokio::test]
    async fn the_signature_covers_the_body() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let client = client(Some("session"));
        let sig = async |query: &str| {
            let body = serde_json::to_vec(&json!({ "query": query, "variables": {} })).unwrap();
            let req = client.signed_request(body, time).await.unwrap();
            req.headers()["authorization"].to_str().unwrap().to_owned()
        };
        assert_ne!(
            sig("{ me { identityId } }").await,
            sig("{ notes { items { id } } }").await
        );
        assert_eq!(sig("{ a }").await, sig("{ a }").await);
    }

    /// One answer from a loopback server: the request arrives signed, the status and body come
    /// back as they are, and a server that never answers is a timeout, not a hang.
    #[tokio::test]
    async fn posts_the_signed_request_and_answers_status_and_body() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/graphql", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers and the small body arrive together enough for one request.
            while !String::from_utf8_lossy(&request).contains("\"variables\"") {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed early");
                request.extend_from_slice(&buf[..n]);
            }
            let body = br#"{"data":null,"errors":[{"errorType":"Unauthorized","message":"no"}]}"#;
            let head = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(body).await.unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("t".into()), None, "test");
        let client = IamGraphql::with_credentials(&url, "eu-central-1".into(), creds).unwrap();
        let (status, body) = client
            .post(br#"{"query":"{ me }","variables":{}}"#.to_vec())
            .await
            .unwrap();
        assert_eq!(status, 401);
        assert!(body.starts_with(br#"{"data":null"#));
        let request = server.await.unwrap().to_ascii_lowercase();
        assert!(
            request.starts_with("post /graphql http/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("authorization: aws4-hmac-sha256 credential=akidexample/"),
            "{request}"
        );
        assert!(request.contains("x-amz-security-token: t\r\n"), "{request}");

        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/graphql", silent.local_addr().unwrap());
        let creds = Credentials::new("a", "b", None, None, "t");
        let client = IamGraphql::with_credentials(&url, "r".into(), creds)
            .unwrap()
            .timeout(Duration::from_millis(200));
        let err = client.execute("{ me }", json!({})).await.unwrap_err();
        assert!(
            matches!(err, Error::Http { ref message, .. } if message.starts_with("no answer within")),
            "{err}"
        );
        drop(silent);
    }

    #[test]
    fn answers() {
        assert_eq!(
            answer(200, br#"{"data":{"x":1}}"#).unwrap(),
            json!({"x": 1})
        );
        let refused = answer(200, br#"{"data":{"x":null},"errors":[{"errorType":"Unauthorized","message":"Not Authorized to access x on type Mutation"}]}"#);
        assert!(
            matches!(refused, Err(Error::Refused { status: 200, ref errors }) if errors.starts_with("Unauthorized Not Authorized"))
        );
        assert!(
            answer(
                403,
                br#"{"errors":[{"errorType":"UnrecognizedClientException","message":"bad"}]}"#
            )
            .is_err()
        );
        assert!(
            matches!(answer(502, b"Bad Gateway"), Err(Error::Refused { status: 502, ref errors }) if errors == "Bad Gateway")
        );
    }

    #[test]
    fn bad_urls_are_errors() {
        let creds = SharedCredentialsProvider::new(Credentials::new("a", "b", None, None, "t"));
        assert!(IamGraphql::new("not a url", "r".into(), creds.clone()).is_err());
        assert!(IamGraphql::new("/graphql", "r".into(), creds).is_err());
    }
}
