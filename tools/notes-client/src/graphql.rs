//! The GraphQL POST, signed with SigV4 for AppSync's AWS_IAM authorization.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, Result};
use crate::session::AwsCredentials;

/// AppSync's signing name.
pub const SERVICE: &str = "appsync";

const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// `{"query": ..., "variables": ...}`; `variables` must be a JSON object when given.
pub fn request_body(query: &str, variables: Option<&str>) -> Result<Vec<u8>> {
    let variables = match variables {
        None => serde_json::Value::Object(serde_json::Map::new()),
        Some(text) => {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| Error::Usage(format!("--variables is not JSON: {e}")))?;
            if !value.is_object() {
                return Err(Error::Usage("--variables must be a JSON object".into()));
            }
            value
        }
    };
    serde_json::to_vec(&serde_json::json!({ "query": query, "variables": variables }))
        .map_err(|e| Error::Usage(e.to_string()))
}

/// The POST to `url` with `body`, signed at `time` for `region` with the session's credentials:
/// `host` and `content-type` signed along with SigV4's own `x-amz-date` and
/// `x-amz-security-token`.
pub fn signed_request(
    url: &str,
    region: &str,
    credentials: &AwsCredentials,
    body: Vec<u8>,
    time: SystemTime,
) -> Result<http::Request<Vec<u8>>> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| Error::Signing(format!("graphqlUrl {url:?}: {e}")))?;
    let host = uri
        .authority()
        .ok_or_else(|| Error::Signing(format!("graphqlUrl {url:?} has no host")))?
        .as_str()
        .to_string();
    let mut request = http::Request::builder()
        .method(http::Method::POST)
        .uri(uri)
        .header(http::header::HOST, host)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
        .map_err(|e| Error::Signing(e.to_string()))?;

    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        Some(credentials.session_token.clone()),
        None,
        "notes-client",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| Error::Signing(e.to_string()))?
        .into();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            value
                .to_str()
                .map(|v| (name.as_str(), v))
                .map_err(|e| Error::Signing(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(|e| Error::Signing(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| Error::Signing(e.to_string()))?
        .into_parts();
    instructions.apply_to_request_http1x(&mut request);
    Ok(request)
}

/// An HTTP/1.1 client, TLS through rustls (aws-lc) for `https://` URLs.
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpClient {
    /// Loads the system's root certificates only when `url` is `https://`.
    pub fn for_url(url: &str) -> Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        if url.starts_with("https://") {
            for cert in rustls_native_certs::load_native_certs().certs {
                // A certificate the store cannot parse is skipped, as browsers do.
                let _ = roots.add(cert);
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| http_error(url, &e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Sends the request; the status and the whole body.
    pub async fn send(&self, request: http::Request<Vec<u8>>) -> Result<(u16, Bytes)> {
        let url = request.uri().to_string();
        let request = request.map(|b| Full::new(Bytes::from(b)));
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| Error::Http {
                url: url.clone(),
                message: format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()),
            })?
            .map_err(|e| http_error(&url, &e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| http_error(&url, &e))?
            .to_bytes();
        Ok((status, body))
    }
}

fn http_error(url: &str, err: &(dyn std::error::Error + 'static)) -> Error {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Http {
        url: url.to_string(),
        message,
    }
}

/// The answer for a person: pretty JSON when it is JSON, the text otherwise.
pub fn render(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => serde_json::to_string_pretty(&value)
            .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned()),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: "session-token".into(),
            expires_at: 0,
        }
    }

    #[test]
    fn request_is_signed_for_appsync_with_the_session_token() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01
        let body = request_body("{ me { identityId } }", None).unwrap();
        let req = signed_request(
            "http://127.0.0.1:4000/graphql",
            "eu-central-1",
            &creds(),
            body,
            time,
        )
        .unwrap();
        let h = |name: &str| req.headers()[name].to_str().unwrap().to_string();
        assert_eq!(h("host"), "127.0.0.1:4000");
        assert_eq!(h("x-amz-date"), "20260101T000000Z");
        assert_eq!(h("x-amz-security-token"), "session-token");
        let auth = h("authorization");
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/eu-central-1/appsync/aws4_request, "
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"),
            "{auth}"
        );
        assert_eq!(req.method(), http::Method::POST);
    }

    #[test]
    fn the_signature_covers_the_body() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let sig = |query: &str| {
            let req = signed_request(
                "https://example.appsync-api.eu-central-1.amazonaws.com/graphql",
                "eu-central-1",
                &creds(),
                request_body(query, None).unwrap(),
                time,
            )
            .unwrap();
            req.headers()["authorization"].to_str().unwrap().to_string()
        };
        assert_ne!(
            sig("{ me { identityId } }"),
            sig("{ notes { items { id } } }")
        );
        assert_eq!(sig("{ a }"), sig("{ a }"));
    }

    #[test]
    fn variables_must_be_a_json_object() {
        let body = request_body("q", Some(r#"{"id":"n1"}"#)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["variables"]["id"], "n1");
        assert_eq!(v["query"], "q");
        let empty: serde_json::Value =
            serde_json::from_slice(&request_body("q", None).unwrap()).unwrap();
        assert_eq!(empty["variables"], serde_json::json!({}));
        assert!(request_body("q", Some("[1]")).is_err());
        assert!(request_body("q", Some("{nope")).is_err());
    }

    #[test]
    fn bad_urls_are_errors_not_panics() {
        let t = SystemTime::now();
        assert!(signed_request("not a url", "r", &creds(), vec![], t).is_err());
        assert!(signed_request("/graphql", "r", &creds(), vec![], t).is_err());
    }

    #[test]
    fn render_pretty_prints_json_and_passes_text() {
        assert_eq!(render(br#"{"a":1}"#), "{\n  \"a\": 1\n}");
        assert_eq!(render(b"Bad Gateway"), "Bad Gateway");
    }
}
