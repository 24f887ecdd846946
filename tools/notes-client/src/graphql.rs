//! The GraphQL POST, signed with SigV4 for AppSync's AWS_IAM authorization by the session's
//! Identity Pool credentials: the signer and HTTPS client are iam-graphql's; here only what the
//! command adds (the body from its arguments, the answer for a person).

use std::time::Duration;

use iam_graphql::{Credentials, IamGraphql};

use crate::error::{Error, Result};
use crate::session::AwsCredentials;

/// A person waits at the terminal: longer than iam-graphql's default for a worker.
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

/// The client of `url` (the outputs file's `graphqlUrl`) in `region`, signing with the session's
/// credentials (their session token included).
pub fn client(url: &str, region: &str, credentials: &AwsCredentials) -> Result<IamGraphql> {
    let credentials = Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        Some(credentials.session_token.clone()),
        None,
        "notes-client",
    );
    Ok(IamGraphql::with_credentials(url, region.to_owned(), credentials)?.timeout(REQUEST_TIMEOUT))
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
    use std::time::SystemTime;

    use super::*;

    fn creds() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: "session-token".into(),
            expires_at: 0,
        }
    }

    #[tokio::test]
    async fn request_is_signed_for_appsync_with_the_session_token() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01
        let body = request_body("{ me { identityId } }", None).unwrap();
        let req = client("http://127.0.0.1:4000/graphql", "eu-central-1", &creds())
            .unwrap()
            .signed_request(body, time)
            .await
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
        assert_eq!(req.method().as_str(), "POST");
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
        for url in ["not a url", "/graphql"] {
            let err = client(url, "r", &creds()).err();
            assert!(matches!(err, Some(Error::Graphql(_))), "{url}: {err:?}");
        }
    }

    #[test]
    fn render_pretty_prints_json_and_passes_text() {
        assert_eq!(render(br#"{"a":1}"#), "{\n  \"a\": 1\n}");
        assert_eq!(render(b"Bad Gateway"), "Bad Gateway");
    }
}
