//! The caller, parsed from the AppSync event's AWS_IAM identity.
//!
//! Only identities issued by a Cognito Identity Pool are accepted. We read the fields ourselves
//! instead of matching on `aws_lambda_events::appsync::AppSyncIdentity`: that enum is untagged and
//! tries its IAM variant first, whose struct needs only `sourceIp`, so a User Pools JWT identity
//! would decode as "IAM" with empty fields. The kind of caller is decided from the fields.

use serde::Deserialize;
use serde_json::Value;

use crate::error::AppError;
use crate::text::shorten;
use crate::validated::validated_string;

/// Upper bound for the whole provider string; real ones are < 300 bytes.
const MAX_PROVIDER_STRING: usize = 2048;
const MAX_ID_LEN: usize = 128;

validated_string! {
    /// The caller's stable id in the Identity Pool (`<region>:<uuid>`), used as `ownerId`.
    pub struct IdentityId(String) = |raw: String| IdentityId::parse(&raw);
}

impl IdentityId {
    /// Accepts the Identity Pool's `<region>:<guid>` alphabet only, so the id can be embedded
    /// in a sort key (`#` is our key separator and can never appear in it).
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_ID_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_'));
        if ok {
            Ok(IdentityId(raw.to_owned()))
        } else {
            Err(unauthorized(
                "The cognitoIdentityId of the caller is malformed.",
            ))
        }
    }
}

validated_string! {
    /// The provider that names a tenant: `cognito-idp.<region>.amazonaws.com/<poolId>`, a social
    /// provider's domain, a developer provider name, or an IAM OIDC/SAML provider ARN.
    pub struct ProviderKey(String) = |raw: String| ProviderKey::parse(&raw);
}

impl ProviderKey {
    /// Parses a provider key as an operator writes it (`tenantctl register --provider ...`).
    /// The same rules apply as for a key taken from an event, so a key that is registered is
    /// one that an event can name.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let entry = parse_entry(raw.trim())?;
        if entry.user_sub.is_some() {
            return Err(AppError::validation(
                "A provider key names the provider only, without a user part.",
            ));
        }
        Ok(entry.key)
    }

    /// The issuer, if this key is one that every account of a public identity provider shares
    /// (Google, Facebook, Amazon, Apple, multi-tenant OIDC issuers): registering such a key to a
    /// tenant admits every account of that provider to the tenant. The safe path is to federate
    /// those providers through the tenant's own User Pool, whose key is then the tenant's alone.
    pub fn shared_issuer(&self) -> Option<&'static str> {
        // An IAM OIDC provider ARN names its issuer after `oidc-provider/`.
        let issuer = self
            .0
            .split_once(":oidc-provider/")
            .map_or(self.0.as_str(), |(_, host)| host);
        SHARED_ISSUERS
            .iter()
            .copied()
            .find(|shared| issuer == *shared || issuer.starts_with(&format!("{shared}/")))
    }
}

/// Issuers whose provider key is the same for every account they sign in.
const SHARED_ISSUERS: [&str; 9] = [
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
    "appleid.apple.com",
    "api.twitter.com",
    "login.microsoftonline.com/common",
    "login.microsoftonline.com/organizations",
    "login.microsoftonline.com/consumers",
    "token.actions.githubusercontent.com",
];

/// An unauthenticated caller holding the Identity Pool's guest credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    pub identity_id: IdentityId,
}

/// An authenticated caller; `provider` names its tenant (once the registry knows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub identity_id: IdentityId,
    pub provider: ProviderKey,
    /// The User Pool `sub`, for User Pool sign-ins only.
    pub user_sub: Option<String>,
    /// The Identity Pool that issued the credentials (`cognitoIdentityPoolId`). A tenant is bound
    /// to one Identity Pool (the registry records it): admission compares the two
    /// ([`crate::store::TenantRegistry::tenant_of`]).
    pub identity_pool: Option<String>,
}

/// Who is calling. Guests and users are different types so that a handler which needs a user
/// cannot be handed a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Guest(Guest),
    User(User),
}

impl Caller {
    pub fn identity_id(&self) -> &IdentityId {
        match self {
            Caller::Guest(g) => &g.identity_id,
            Caller::User(u) => &u.identity_id,
        }
    }

    /// `guest` or `user`, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Caller::Guest(_) => "guest",
            Caller::User(_) => "user",
        }
    }
}

/// The identity fields we read. Everything is optional: which ones are present decides the kind.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawIdentity {
    cognito_identity_id: Option<Value>,
    cognito_identity_pool_id: Option<Value>,
    cognito_identity_auth_type: Option<Value>,
    cognito_identity_auth_provider: Option<Value>,
    user_arn: Option<Value>,
    claims: Option<Value>,
    issuer: Option<Value>,
    resolver_context: Option<Value>,
}

fn unauthorized(msg: &str) -> AppError {
    AppError::Unauthorized(msg.to_owned())
}

fn non_empty_str(v: &Option<Value>) -> Option<&str> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// Parses the event's `identity` into a caller.
///
/// `expected_pool` is `IDENTITY_POOL_ID`, the stack's first Identity Pool, the one that serves
/// guests: when set, a guest identity from any other pool is refused. A signed-in user may come
/// from any of the stack's Identity Pools; the registry knows which one is their tenant's, and
/// admission checks it (a user whose tenant predates the binding is held to `expected_pool`).
pub fn parse_caller(
    identity: Option<&Value>,
    expected_pool: Option<&str>,
) -> Result<Caller, AppError> {
    let raw = match identity {
        None | Some(Value::Null) => {
            return Err(unauthorized(
                "This API accepts only AWS_IAM requests signed with Cognito Identity Pool credentials; the request carried no identity.",
            ));
        }
        Some(v @ Value::Object(_)) => RawIdentity::deserialize(v)
            .map_err(|_| unauthorized("The request identity is malformed."))?,
        Some(_) => return Err(unauthorized("The request identity is malformed.")),
    };

    let Some(identity_id) = non_empty_str(&raw.cognito_identity_id) else {
        let msg = if raw.resolver_context.is_some() {
            "Lambda-authorizer requests are not accepted; sign in through the Cognito Identity Pool."
        } else if raw.claims.is_some() || raw.issuer.is_some() {
            "User Pool or OIDC tokens are not accepted directly; exchange them for Cognito Identity Pool credentials."
        } else if raw.user_arn.is_some() {
            "IAM principals without a Cognito identity are not accepted; use Cognito Identity Pool credentials."
        } else {
            "The request identity carries no Cognito identity id."
        };
        return Err(unauthorized(msg));
    };
    let identity_id = IdentityId::parse(identity_id)?;

    let identity_pool = non_empty_str(&raw.cognito_identity_pool_id);
    let untrusted =
        || unauthorized("The credentials were issued by an identity pool this API does not trust.");
    match non_empty_str(&raw.cognito_identity_auth_type) {
        Some("unauthenticated") => {
            if expected_pool.is_some() && identity_pool != expected_pool {
                return Err(untrusted());
            }
            Ok(Caller::Guest(Guest { identity_id }))
        }
        Some("authenticated") => {
            let Some(provider) = non_empty_str(&raw.cognito_identity_auth_provider) else {
                return Err(unauthorized(
                    "The authenticated identity names no sign-in provider.",
                ));
            };
            let (provider, user_sub) = parse_provider(provider)?;
            // With a pinned first pool, an identity that names no pool at all is not one of ours.
            if expected_pool.is_some() && identity_pool.is_none() {
                return Err(untrusted());
            }
            Ok(Caller::User(User {
                identity_id,
                provider,
                user_sub,
                identity_pool: identity_pool.map(str::to_owned),
            }))
        }
        _ => Err(unauthorized(
            "The identity's cognitoIdentityAuthType must be 'authenticated' or 'unauthenticated'.",
        )),
    }
}

/// One entry of the provider list, parsed.
struct Entry {
    key: ProviderKey,
    user_sub: Option<String>,
}

/// Parses `cognitoIdentityAuthProvider`: a comma-separated list whose entries AppSync wraps in
/// literal double quotes (API Gateway does not). Every entry must name the same provider; a User
/// Pool's `:CognitoSignIn:<sub>` entry adds the user's `sub`.
pub fn parse_provider(raw: &str) -> Result<(ProviderKey, Option<String>), AppError> {
    if raw.len() > MAX_PROVIDER_STRING {
        return Err(unauthorized("The sign-in provider string is too long."));
    }
    let mut key: Option<ProviderKey> = None;
    let mut sub: Option<String> = None;
    let mut seen = 0usize;
    for part in raw.split(',') {
        let part = part.trim();
        let part = match part.strip_prefix('"') {
            Some(rest) => rest.strip_suffix('"').ok_or_else(|| {
                unauthorized("The sign-in provider string has an unbalanced quote.")
            })?,
            None => part,
        };
        if part.is_empty() {
            continue;
        }
        seen += 1;
        let entry = parse_entry(part)
            .map_err(|_| unauthorized("The sign-in provider string could not be parsed."))?;
        match &key {
            Some(k) if *k != entry.key => {
                return Err(unauthorized(
                    "The sign-in provider string names more than one provider.",
                ));
            }
            Some(_) => {}
            None => key = Some(entry.key),
        }
        if let Some(s) = entry.user_sub {
            if sub.as_ref().is_some_and(|prev| *prev != s) {
                return Err(unauthorized(
                    "The sign-in provider string names more than one user.",
                ));
            }
            sub = Some(s);
        }
    }
    match key {
        Some(k) if seen > 0 => Ok((k, sub)),
        _ => Err(unauthorized("The sign-in provider string is empty.")),
    }
}

/// Parses one unquoted entry. Errors are `ValidationError`s; the event path turns them into
/// `Unauthorized`.
fn parse_entry(entry: &str) -> Result<Entry, AppError> {
    let bad = || AppError::validation(format!("'{}' is not a provider key.", shorten(entry, 80)));
    if entry.is_empty()
        || entry.len() > 1024
        || entry
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == ',' || c == '#')
    {
        return Err(bad());
    }

    // IAM OIDC / SAML provider ARN: arn:<partition>:iam::<account>:(oidc|saml)-provider/<name>
    if let Some(rest) = entry.strip_prefix("arn:") {
        let mut fields = rest.splitn(5, ':');
        let partition = fields.next().unwrap_or_default();
        let service = fields.next().unwrap_or_default();
        let region = fields.next().unwrap_or_default();
        let account = fields.next().unwrap_or_default();
        let resource = fields.next().unwrap_or_default();
        let kind_ok =
            resource.starts_with("oidc-provider/") || resource.starts_with("saml-provider/");
        let name = resource.split_once('/').map(|(_, n)| n).unwrap_or_default();
        let ok = partition.starts_with("aws")
            && service == "iam"
            && region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && kind_ok
            && !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/+=@".contains(&b));
        return if ok {
            Ok(Entry {
                key: ProviderKey(entry.to_owned()),
                user_sub: None,
            })
        } else {
            Err(bad())
        };
    }

    // Some providers may appear with their scheme; the key is the host (and path).
    let entry = entry.strip_prefix("https://").unwrap_or(entry);

    // User Pool sign-in: cognito-idp.<region>.amazonaws.com/<poolId>:CognitoSignIn:<sub>
    if let Some((pool, user_sub)) = entry.split_once(":CognitoSignIn:") {
        let key = user_pool_key(pool).ok_or_else(bad)?;
        let sub_ok = !user_sub.is_empty()
            && user_sub.len() <= MAX_ID_LEN
            && user_sub
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !sub_ok {
            return Err(bad());
        }
        return Ok(Entry {
            key,
            user_sub: Some(user_sub.to_owned()),
        });
    }

    // Everything else is `<host>[/<path>]`, optionally followed by `:<user part>` (developer
    // authenticated identities: `login.provider.name:<region>:<guid>:<user>`). The key is the part
    // before the first colon; the user part is not a tenant and is ignored.
    let (head, user_part) = match entry.split_once(':') {
        Some((h, u)) => (h, Some(u)),
        None => (entry, None),
    };
    if user_part.is_some_and(str::is_empty) {
        return Err(bad());
    }
    if head.starts_with("cognito-idp.") {
        let key = user_pool_key(head).ok_or_else(bad)?;
        if user_part.is_some() {
            return Err(bad());
        }
        return Ok(Entry {
            key,
            user_sub: None,
        });
    }
    let (host, path) = match head.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (head, None),
    };
    let host_ok = is_hostname(host);
    let path_ok = path.is_none_or(|p| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
    });
    if !(host_ok && path_ok) {
        return Err(bad());
    }
    Ok(Entry {
        key: ProviderKey(head.to_owned()),
        user_sub: None,
    })
}

/// `cognito-idp.<region>.amazonaws.com/<poolId>` → the key, if well formed.
fn user_pool_key(s: &str) -> Option<ProviderKey> {
    let (host, pool) = s.split_once('/')?;
    let region = host.strip_prefix("cognito-idp.")?;
    let region = region
        .strip_suffix(".amazonaws.com")
        .or_else(|| region.strip_suffix(".amazonaws.com.cn"))?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let pool_ok = !pool.is_empty()
        && pool.len() <= 64
        && pool
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    (region_ok && pool_ok).then(|| ProviderKey(s.to_owned()))
}

fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const POOL_A: &str = "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbCdEfGhI";
    const SUB: &str = "2f1c5a3e-8a3b-4b9e-9d2a-5f0c1e7d9b11";

    fn iam(provider: Value, auth_type: &str) -> Value {
        let mut v = crate::fixtures::user_identity(
            POOL_A,
            "eu-central-1:59ec6a11-3585-4ad0-9eb6-c9b7a58295b1",
            None,
        );
        v["cognitoIdentityAuthProvider"] = provider;
        v["cognitoIdentityAuthType"] = json!(auth_type);
        v
    }

    fn user(v: &Value) -> User {
        match parse_caller(Some(v), None) {
            Ok(Caller::User(u)) => u,
            other => panic!("expected a user, got {other:?}"),
        }
    }

    fn rejected(v: Option<&Value>, pool: Option<&str>) -> String {
        match parse_caller(v, pool) {
            Err(AppError::Unauthorized(m)) => m,
            other => panic!("expected Unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn user_pool_sign_in_as_appsync_sends_it_quoted() {
        let p = format!("\"{POOL_A}\",\"{POOL_A}:CognitoSignIn:{SUB}\"");
        let u = user(&iam(json!(p), "authenticated"));
        assert_eq!(u.provider.as_str(), POOL_A);
        assert_eq!(u.user_sub.as_deref(), Some(SUB));
        assert_eq!(
            u.identity_id.as_str(),
            "eu-central-1:59ec6a11-3585-4ad0-9eb6-c9b7a58295b1"
        );
    }

    #[test]
    fn user_pool_sign_in_as_api_gateway_sends_it_unquoted() {
        let p = format!("{POOL_A},{POOL_A}:CognitoSignIn:{SUB}");
        let u = user(&iam(json!(p), "authenticated"));
        assert_eq!(u.provider.as_str(), POOL_A);
        assert_eq!(u.user_sub.as_deref(), Some(SUB));
    }

    #[test]
    fn sign_in_entry_alone_still_names_the_pool() {
        let p = format!("\"{POOL_A}:CognitoSignIn:{SUB}\"");
        let u = user(&iam(json!(p), "authenticated"));
        assert_eq!(u.provider.as_str(), POOL_A);
    }

    #[test]
    fn social_providers_are_keyed_by_domain() {
        for domain in [
            "accounts.google.com",
            "graph.facebook.com",
            "www.amazon.com",
            "appleid.apple.com",
        ] {
            for p in [domain.to_owned(), format!("\"{domain}\"")] {
                let u = user(&iam(json!(p), "authenticated"));
                assert_eq!(u.provider.as_str(), domain);
                assert_eq!(u.user_sub, None);
            }
        }
    }

    #[test]
    fn oidc_and_saml_providers_are_keyed_by_what_names_them() {
        for p in [
            "arn:aws:iam::123456789012:oidc-provider/login.example.com",
            "arn:aws:iam::123456789012:oidc-provider/auth.example.com/realms/acme",
            "arn:aws:iam::123456789012:saml-provider/AcmeIdP",
            "login.example.com",
            "auth.example.com/realms/acme",
        ] {
            let u = user(&iam(json!(format!("\"{p}\"")), "authenticated"));
            assert_eq!(u.provider.as_str(), p);
        }
        let u = user(&iam(json!("https://login.example.com"), "authenticated"));
        assert_eq!(u.provider.as_str(), "login.example.com");
    }

    #[test]
    fn developer_authenticated_identities_are_keyed_by_the_developer_provider() {
        let p = "login.acme.app,login.acme.app:eu-central-1:0b5a2f4e-1111-2222-3333-444455556666:user-42";
        let u = user(&iam(json!(p), "authenticated"));
        assert_eq!(u.provider.as_str(), "login.acme.app");
    }

    #[test]
    fn guests_need_no_provider() {
        for provider in [Value::Null, json!("")] {
            let v = iam(provider, "unauthenticated");
            assert!(matches!(parse_caller(Some(&v), None), Ok(Caller::Guest(_))));
        }
        let mut v = iam(Value::Null, "unauthenticated");
        v.as_object_mut()
            .unwrap()
            .remove("cognitoIdentityAuthProvider");
        assert!(matches!(parse_caller(Some(&v), None), Ok(Caller::Guest(_))));
    }

    #[test]
    fn non_cognito_identities_are_unauthorized() {
        // API key: no identity at all.
        rejected(None, None);
        rejected(Some(&Value::Null), None);
        // User Pools JWT: sub/issuer/claims, no cognitoIdentity*.
        let jwt = json!({"sub": SUB, "issuer": "https://cognito-idp.eu-central-1.amazonaws.com/x", "claims": {}, "username": "alice", "sourceIp": ["1.2.3.4"], "defaultAuthStrategy": "ALLOW"});
        assert!(rejected(Some(&jwt), None).contains("User Pool"));
        // Lambda authorizer.
        let lambda = json!({"resolverContext": {"tenant": "acme"}});
        assert!(rejected(Some(&lambda), None).contains("Lambda"));
        // Plain IAM role, no Identity Pool.
        let plain = json!({"accountId": "123456789012", "cognitoIdentityAuthProvider": null, "cognitoIdentityAuthType": null, "cognitoIdentityId": null, "cognitoIdentityPoolId": null, "sourceIp": ["1.2.3.4"], "userArn": "arn:aws:iam::123456789012:role/admin", "username": "AROA:x"});
        assert!(rejected(Some(&plain), None).contains("IAM"));
        // Not an object.
        rejected(Some(&json!("identity")), None);
        rejected(Some(&json!([1, 2])), None);
    }

    #[test]
    fn malformed_provider_strings_are_unauthorized() {
        for p in [
            json!(""),
            json!("   "),
            json!(","),
            json!("\"\""),
            json!(null),
            json!(42),
            json!("\"cognito-idp.eu-central-1.amazonaws.com/eu-central-1_A"),
            json!("cognito-idp.eu-central-1.amazonaws.com/"),
            json!("cognito-idp.eu-central-1.amazonaws.com/pool#TENANT#b"),
            json!("cognito-idp..amazonaws.com/eu-central-1_A"),
            json!(format!("{POOL_A}:CognitoSignIn:")),
            json!(format!("{POOL_A}:CognitoSignIn:a#b")),
            json!("localhost"),
            json!("accounts.google.com:"),
            json!("arn:aws:iam::123:oidc-provider/x"),
            json!("arn:aws:s3:::bucket"),
            json!("acme corp"),
            json!("é.example.com"),
            json!("a".repeat(10_000)),
            json!(format!(
                "{POOL_A},cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Other"
            )),
            json!(format!(
                "{POOL_A}:CognitoSignIn:{SUB},{POOL_A}:CognitoSignIn:other-sub"
            )),
        ] {
            let v = iam(p.clone(), "authenticated");
            rejected(Some(&v), None);
        }
    }

    #[test]
    fn identity_pool_pinning() {
        let v = iam(json!(POOL_A), "authenticated");
        let pool = "eu-central-1:1cb638b4-0f0c-4078-9fe0-4dbd3582783d";
        let other = "eu-central-1:00000000-0000-0000-0000-000000000000";
        assert!(parse_caller(Some(&v), Some(pool)).is_ok());
        // A user of another of the stack's pools parses, and carries the pool it came from:
        // admission holds it to its tenant's pool (store::TenantRegistry).
        let mut elsewhere = v.clone();
        elsewhere["cognitoIdentityPoolId"] = json!(other);
        match parse_caller(Some(&elsewhere), Some(pool)) {
            Ok(Caller::User(u)) => assert_eq!(u.identity_pool.as_deref(), Some(other)),
            got => panic!("{got:?}"),
        }
        // Guests come only from the first pool.
        let mut guest = json!({
            "cognitoIdentityId": "eu-central-1:9e570000-0000-4000-8000-000000000009",
            "cognitoIdentityPoolId": pool,
            "cognitoIdentityAuthType": "unauthenticated",
            "cognitoIdentityAuthProvider": null,
        });
        assert!(parse_caller(Some(&guest), Some(pool)).is_ok());
        guest["cognitoIdentityPoolId"] = json!(other);
        rejected(Some(&guest), Some(pool));
        let mut no_pool = v.clone();
        no_pool
            .as_object_mut()
            .unwrap()
            .remove("cognitoIdentityPoolId");
        rejected(Some(&no_pool), Some(pool));
        // Unpinned, a missing pool id is tolerated.
        assert!(parse_caller(Some(&no_pool), None).is_ok());
    }

    #[test]
    fn unknown_auth_types_and_bad_identity_ids_are_unauthorized() {
        rejected(Some(&iam(json!(POOL_A), "Authenticated")), None);
        rejected(Some(&iam(json!(POOL_A), "")), None);
        let mut v = iam(json!(POOL_A), "authenticated");
        v["cognitoIdentityId"] = json!("eu-central-1:abc#TENANT#b");
        rejected(Some(&v), None);
        v["cognitoIdentityId"] = json!(42);
        rejected(Some(&v), None);
        v["cognitoIdentityId"] = json!("x".repeat(500));
        rejected(Some(&v), None);
    }

    #[test]
    fn shared_issuers_are_recognised_in_every_form() {
        for shared in [
            "accounts.google.com",
            "graph.facebook.com",
            "www.amazon.com",
            "appleid.apple.com",
            "arn:aws:iam::123456789012:oidc-provider/accounts.google.com",
        ] {
            let key = ProviderKey::parse(shared).unwrap();
            assert!(key.shared_issuer().is_some(), "{shared}");
        }
        for own in [
            "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1",
            "arn:aws:iam::123456789012:oidc-provider/login.globex.example",
            "arn:aws:iam::123456789012:saml-provider/AcmeOkta",
            "accounts.google.com.evil.example",
        ] {
            let Ok(key) = ProviderKey::parse(own) else {
                continue;
            };
            assert_eq!(key.shared_issuer(), None, "{own}");
        }
    }

    #[test]
    fn provider_keys_for_operators_use_the_same_rules() {
        assert_eq!(ProviderKey::parse(POOL_A).unwrap().as_str(), POOL_A);
        assert!(ProviderKey::parse("accounts.google.com").is_ok());
        assert!(ProviderKey::parse("arn:aws:iam::123456789012:saml-provider/AcmeIdP").is_ok());
        assert!(ProviderKey::parse(&format!("{POOL_A}:CognitoSignIn:{SUB}")).is_err());
        assert!(ProviderKey::parse("not a key").is_err());
        assert!(ProviderKey::parse("").is_err());
    }
}
