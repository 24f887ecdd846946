//! The outputs file: where the stack is (`.local/outputs.json` locally, the same keys from the
//! deployed stack's outputs on AWS, there without endpoints and without demo users).

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The stack a client talks to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    pub region: String,
    pub graphql_url: String,
    pub identity_pool_id: String,
    #[serde(default)]
    pub allow_guests: bool,
    /// Only locally: the User Pools' endpoint (moto). Absent: the SDK's default endpoint.
    #[serde(default)]
    pub cognito_idp_endpoint: Option<String>,
    /// Only locally: the Identity Pool data plane. Absent: the SDK's default endpoint.
    #[serde(default)]
    pub cognito_identity_endpoint: Option<String>,
    pub tenants: Vec<TenantOutputs>,
}

/// One tenant: its User Pool and app client, its Identity Pool, and locally its demo users.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantOutputs {
    pub tenant_id: String,
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    /// The Identity Pool this tenant's users get credentials from (tenants are spread over
    /// several). Absent (an older outputs file): the top-level `identityPoolId`; see
    /// [`Outputs::tenant_identity_pool_id`].
    #[serde(default)]
    pub identity_pool_id: Option<String>,
    #[serde(default)]
    pub users: Vec<DemoUser>,
}

/// A demo user of the local stack.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoUser {
    /// The sign-in username (the pools use email addresses as usernames).
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    /// A short name (`alice`) that `--username` and `--as` accept as well.
    #[serde(default)]
    pub name: Option<String>,
}

impl std::fmt::Debug for DemoUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoUser")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name)
            .finish()
    }
}

/// A `--username` resolved against a tenant's users: what to sign in with, and the short label
/// that names the session file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub username: String,
    pub label: String,
}

impl Outputs {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| Error::Outputs {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses and checks the file; the error is a message for [`Error::Outputs`].
    pub fn parse(text: &str) -> Result<Self, String> {
        let outputs: Outputs = serde_json::from_str(text).map_err(|e| e.to_string())?;
        outputs.validate()?;
        Ok(outputs)
    }

    fn validate(&self) -> Result<(), String> {
        for (key, value) in [
            ("region", &self.region),
            ("graphqlUrl", &self.graphql_url),
            ("identityPoolId", &self.identity_pool_id),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{key} is empty"));
            }
        }
        if !(self.graphql_url.starts_with("http://") || self.graphql_url.starts_with("https://")) {
            return Err(format!(
                "graphqlUrl {:?} is not an http(s) URL",
                self.graphql_url
            ));
        }
        for t in &self.tenants {
            // SRP hashes the part after the underscore: `<region>_<pool name>`.
            match t.user_pool_id.split_once('_') {
                Some((region, name)) if !region.is_empty() && !name.is_empty() => {}
                _ => {
                    return Err(format!(
                        "tenant {}: userPoolId {:?} is not <region>_<id>",
                        t.tenant_id, t.user_pool_id
                    ));
                }
            }
            if t.tenant_id.is_empty() || t.user_pool_client_id.is_empty() {
                return Err("a tenant without tenantId or userPoolClientId".into());
            }
            if t.identity_pool_id
                .as_deref()
                .is_some_and(|id| id.trim().is_empty())
            {
                return Err(format!("tenant {}: identityPoolId is empty", t.tenant_id));
            }
        }
        Ok(())
    }

    /// The Identity Pool guests get credentials from: the top-level `identityPoolId`, the
    /// stack's first pool.
    pub fn guest_identity_pool_id(&self) -> &str {
        &self.identity_pool_id
    }

    /// The Identity Pool `tenant`'s users sign in through: the tenant's own `identityPoolId`,
    /// else (an outputs file from before tenants had their own) the top-level one.
    pub fn tenant_identity_pool_id<'a>(&'a self, tenant: &'a TenantOutputs) -> &'a str {
        tenant
            .identity_pool_id
            .as_deref()
            .unwrap_or(&self.identity_pool_id)
    }

    pub fn tenant(&self, tenant_id: &str) -> Result<&TenantOutputs> {
        self.tenants
            .iter()
            .find(|t| t.tenant_id == tenant_id)
            .ok_or_else(|| Error::UnknownTenant {
                tenant: tenant_id.to_string(),
                known: self
                    .tenants
                    .iter()
                    .map(|t| t.tenant_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl TenantOutputs {
    /// The key of this pool's id tokens in an Identity Pool's `Logins` map (the token issuer
    /// without the scheme). The region is the pool's own, from its id.
    pub fn login_provider(&self) -> String {
        login_provider(&self.user_pool_id)
    }

    /// `--username` as given: a listed user's sign-in username (any case) or demo name, or any
    /// other username, passed on as it is.
    pub fn resolve_user(&self, input: &str) -> ResolvedUser {
        let by_username = self.users.iter().find(|u| u.username == input).or_else(|| {
            self.users
                .iter()
                .find(|u| u.username.eq_ignore_ascii_case(input))
        });
        let by_name = || self.users.iter().find(|u| u.name.as_deref() == Some(input));
        match by_username.or_else(by_name) {
            Some(user) => ResolvedUser {
                username: user.username.clone(),
                label: sanitize_label(user.name.as_deref().unwrap_or(&user.username)),
            },
            None => ResolvedUser {
                username: input.to_string(),
                label: sanitize_label(input),
            },
        }
    }

    /// The demo password of a listed user, if the file has one.
    pub fn demo_password(&self, username: &str) -> Option<&str> {
        self.users
            .iter()
            .find(|u| u.username == username)
            .and_then(|u| u.password.as_deref())
    }
}

/// The `Logins` key of a User Pool's id tokens: `cognito-idp.<region>.amazonaws.com/<pool id>`,
/// the region being the pool's own (the part of its id before `_`).
pub fn login_provider(user_pool_id: &str) -> String {
    let region = user_pool_id.split_once('_').map_or("", |(r, _)| r);
    format!("cognito-idp.{region}.amazonaws.com/{user_pool_id}")
}

/// A file-name-safe label: letters, digits, `.`, `@`, `_` and `-` kept, anything else `_`.
pub fn sanitize_label(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Never "", "." or ".." as a file name part.
    if out.chars().all(|c| c == '.') {
        format!("_{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &str = r#"{
      "region": "eu-central-1", "graphqlUrl": "http://127.0.0.1:4000/graphql",
      "identityPoolId": "eu-central-1:1cb638b4-0f0c-4078-9fe0-4dbd3582783d", "allowGuests": true,
      "cognitoIdpEndpoint": "http://127.0.0.1:5001", "cognitoIdentityEndpoint": "http://127.0.0.1:5002",
      "tenants": [
        { "tenantId": "acme", "userPoolId": "eu-central-1_0123abcd", "userPoolClientId": "c1",
          "users": [ { "username": "alice@acme.example", "password": "pw-a", "name": "alice" },
                     { "username": "carol@acme.example", "password": "pw-c", "name": "carol" } ] },
        { "tenantId": "globex", "userPoolId": "eu-central-1_4567efgh", "userPoolClientId": "c2",
          "users": [ { "username": "bob@globex.example", "password": "pw-b", "name": "bob" } ] }
      ] }"#;

    const AWS: &str = r#"{
      "region": "eu-central-1", "graphqlUrl": "https://abc.appsync-api.eu-central-1.amazonaws.com/graphql",
      "identityPoolId": "eu-central-1:1cb638b4-0f0c-4078-9fe0-4dbd3582783d", "allowGuests": false,
      "tenants": [ { "tenantId": "acme", "userPoolId": "eu-central-1_AcmePool1", "userPoolClientId": "c1" } ],
      "someOtherOutput": 1 }"#;

    #[test]
    fn local_file_parses_with_endpoints_and_users() {
        let o = Outputs::parse(LOCAL).unwrap();
        assert_eq!(
            o.cognito_idp_endpoint.as_deref(),
            Some("http://127.0.0.1:5001")
        );
        assert_eq!(
            o.cognito_identity_endpoint.as_deref(),
            Some("http://127.0.0.1:5002")
        );
        assert!(o.allow_guests);
        assert_eq!(
            o.tenant("globex").unwrap().users[0].name.as_deref(),
            Some("bob")
        );
    }

    #[test]
    fn aws_file_parses_without_endpoints_or_users() {
        let o = Outputs::parse(AWS).unwrap();
        assert_eq!(o.cognito_idp_endpoint, None);
        assert_eq!(o.cognito_identity_endpoint, None);
        assert!(!o.allow_guests);
        assert!(o.tenant("acme").unwrap().users.is_empty());
    }

    #[test]
    fn missing_keys_and_bad_values_are_refused() {
        assert!(Outputs::parse("{}").unwrap_err().contains("missing field"));
        assert!(Outputs::parse("not json").is_err());
        let bad_pool = AWS.replace("eu-central-1_AcmePool1", "AcmePool1");
        assert!(
            Outputs::parse(&bad_pool)
                .unwrap_err()
                .contains("userPoolId")
        );
        let bad_url = AWS.replace("https://abc", "ftp://abc");
        assert!(Outputs::parse(&bad_url).unwrap_err().contains("graphqlUrl"));
        let empty_region = AWS.replace("\"region\": \"eu-central-1\"", "\"region\": \"\"");
        assert!(
            Outputs::parse(&empty_region)
                .unwrap_err()
                .contains("region")
        );
    }

    const POOLS: &str = r#"{
      "region": "eu-central-1", "graphqlUrl": "https://abc.appsync-api.eu-central-1.amazonaws.com/graphql",
      "identityPoolId": "eu-central-1:first", "allowGuests": true,
      "tenants": [
        { "tenantId": "acme", "userPoolId": "eu-central-1_AcmePool1", "userPoolClientId": "c1",
          "identityPoolId": "eu-central-1:second" },
        { "tenantId": "globex", "userPoolId": "eu-central-1_GlobexPl1", "userPoolClientId": "c2" }
      ] }"#;

    #[test]
    fn a_tenant_with_its_own_identity_pool_signs_in_there() {
        let o = Outputs::parse(POOLS).unwrap();
        let acme = o.tenant("acme").unwrap();
        assert_eq!(
            acme.identity_pool_id.as_deref(),
            Some("eu-central-1:second")
        );
        assert_eq!(o.tenant_identity_pool_id(acme), "eu-central-1:second");
    }

    #[test]
    fn a_tenant_without_its_own_identity_pool_falls_back_to_the_top_level_one() {
        let o = Outputs::parse(POOLS).unwrap();
        let globex = o.tenant("globex").unwrap();
        assert_eq!(globex.identity_pool_id, None);
        assert_eq!(o.tenant_identity_pool_id(globex), "eu-central-1:first");
        // An outputs file from before the per-tenant key: every tenant uses the one pool.
        let old = Outputs::parse(AWS).unwrap();
        assert_eq!(
            old.tenant_identity_pool_id(old.tenant("acme").unwrap()),
            "eu-central-1:1cb638b4-0f0c-4078-9fe0-4dbd3582783d"
        );
    }

    #[test]
    fn guests_use_the_top_level_identity_pool() {
        let o = Outputs::parse(POOLS).unwrap();
        assert_eq!(o.guest_identity_pool_id(), "eu-central-1:first");
    }

    #[test]
    fn an_empty_tenant_identity_pool_is_refused() {
        let empty = POOLS.replace("\"eu-central-1:second\"", "\" \"");
        let err = Outputs::parse(&empty).unwrap_err();
        assert!(
            err.contains("acme") && err.contains("identityPoolId"),
            "{err}"
        );
    }

    #[test]
    fn unknown_tenant_names_the_known_ones() {
        let o = Outputs::parse(LOCAL).unwrap();
        let err = o.tenant("initech").unwrap_err().to_string();
        assert!(
            err.contains("initech") && err.contains("acme, globex"),
            "{err}"
        );
    }

    #[test]
    fn login_provider_is_the_issuer_without_scheme() {
        let o = Outputs::parse(LOCAL).unwrap();
        assert_eq!(
            o.tenant("acme").unwrap().login_provider(),
            "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_0123abcd"
        );
    }

    #[test]
    fn username_resolves_by_username_or_demo_name() {
        let o = Outputs::parse(LOCAL).unwrap();
        let acme = o.tenant("acme").unwrap();
        let want = ResolvedUser {
            username: "alice@acme.example".into(),
            label: "alice".into(),
        };
        assert_eq!(acme.resolve_user("alice"), want);
        assert_eq!(acme.resolve_user("alice@acme.example"), want);
        assert_eq!(acme.resolve_user("Alice@Acme.Example"), want);
        // bob is globex's: at acme the name passes through as a username.
        assert_eq!(
            acme.resolve_user("bob"),
            ResolvedUser {
                username: "bob".into(),
                label: "bob".into()
            }
        );
        assert_eq!(
            acme.resolve_user("dave@acme.example"),
            ResolvedUser {
                username: "dave@acme.example".into(),
                label: "dave@acme.example".into()
            }
        );
        assert_eq!(acme.demo_password("carol@acme.example"), Some("pw-c"));
        assert_eq!(acme.demo_password("carol"), None);
    }

    #[test]
    fn labels_are_safe_file_name_parts() {
        assert_eq!(sanitize_label("../etc/passwd"), ".._etc_passwd");
        assert_eq!(sanitize_label(".."), "_..");
        assert_eq!(sanitize_label(""), "_");
        assert_eq!(sanitize_label("a b/c"), "a_b_c");
    }

    #[test]
    fn debug_does_not_print_passwords() {
        let o = Outputs::parse(LOCAL).unwrap();
        let dbg = format!("{o:?}");
        assert!(!dbg.contains("pw-a") && dbg.contains("<redacted>"), "{dbg}");
    }
}
