//! The AppSync AWS_IAM `identity` object, built once for every test, benchmark and sample that
//! needs one (not used by the functions themselves). The shape is what AppSync sends for Cognito
//! Identity Pool credentials: the provider list quoted entry by entry, `:CognitoSignIn:<sub>`
//! after a User Pool sign-in, no provider for guests.

use serde_json::{Value, json};

pub const ACCOUNT: &str = "123456789012";
/// The Identity Pool the fixtures' identities come from.
pub const IDENTITY_POOL: &str = "eu-central-1:1cb638b4-0f0c-4078-9fe0-4dbd3582783d";

/// A signed-in identity: `provider` is the provider key, `sub` the User Pool user (None for a
/// federated provider, whose entry carries no sub).
pub fn user_identity(provider: &str, identity_id: &str, sub: Option<&str>) -> Value {
    let providers = match sub {
        Some(sub) => format!("\"{provider}\",\"{provider}:CognitoSignIn:{sub}\""),
        None => format!("\"{provider}\""),
    };
    json!({
        "accountId": ACCOUNT,
        "cognitoIdentityAuthProvider": providers,
        "cognitoIdentityAuthType": "authenticated",
        "cognitoIdentityId": identity_id,
        "cognitoIdentityPoolId": IDENTITY_POOL,
        "sourceIp": ["203.0.113.7"],
        "userArn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/NotesUserRole/CognitoIdentityCredentials"),
        "username": "AROAUSERROLEID000001:CognitoIdentityCredentials"
    })
}

/// A guest: the Identity Pool's unauthenticated role, no provider.
pub fn guest_identity(identity_id: &str) -> Value {
    json!({
        "accountId": ACCOUNT,
        "cognitoIdentityAuthProvider": null,
        "cognitoIdentityAuthType": "unauthenticated",
        "cognitoIdentityId": identity_id,
        "cognitoIdentityPoolId": IDENTITY_POOL,
        "sourceIp": ["203.0.113.9"],
        "userArn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/NotesGuestRole/CognitoIdentityCredentials"),
        "username": "AROAGUESTROLEID00001:CognitoIdentityCredentials"
    })
}
