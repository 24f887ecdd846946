//! The settings every tenant's Cognito User Pool and app client get: one definition, used by
//! `tenantctl onboard` to create a tenant's pool and checked against `template.yaml`'s pool
//! resources by `tests/tests/template.rs`, so a setting changed in one place and not the other
//! fails CI instead of giving tenants onboarded later different sign-in rules.
//!
//! Plain data (no Cognito SDK here: the functions link this crate and never call Cognito). The
//! property names are CloudFormation's, which are also the Cognito API's input names for every
//! setting here, so [`UserPoolSettings::properties`] is both the template's `Properties` (minus
//! the name and tags) and a `CreateUserPool` input (minus `PoolName`).

use serde_json::{Value, json};

/// A User Pool's password policy (`Policies.PasswordPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub minimum_length: i32,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    /// How long an invitation's temporary password (onboard's first admin) stays valid.
    pub temporary_password_validity_days: i32,
}

/// The pool-level settings of a tenant's User Pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserPoolSettings {
    /// `ACTIVE`: the pool holds the users, whose identity ids own their notes; deleting it is a
    /// deliberate two-step act (`tenantctl offboard --delete-pool` turns this off first).
    pub deletion_protection: &'static str,
    pub username_attributes: &'static [&'static str],
    pub auto_verified_attributes: &'static [&'static str],
    /// Users are invited by the tenant's admin (or onboard), never self-registered: a pool is a
    /// tenant, and a stranger signing up would become that tenant's user.
    pub allow_admin_create_user_only: bool,
    pub password_policy: PasswordPolicy,
}

/// The settings of the app client a tenant's front end signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSettings {
    pub client_name: &'static str,
    /// A browser app cannot keep a secret.
    pub generate_secret: bool,
    /// SRP only (no password ever leaves the client) plus refresh.
    pub explicit_auth_flows: &'static [&'static str],
    pub prevent_user_existence_errors: &'static str,
    pub access_token_validity_minutes: i32,
    pub id_token_validity_minutes: i32,
    pub refresh_token_validity_days: i32,
    pub enable_token_revocation: bool,
}

pub const USER_POOL: UserPoolSettings = UserPoolSettings {
    deletion_protection: "ACTIVE",
    username_attributes: &["email"],
    auto_verified_attributes: &["email"],
    allow_admin_create_user_only: true,
    password_policy: PasswordPolicy {
        minimum_length: 12,
        require_lowercase: true,
        require_uppercase: true,
        require_numbers: true,
        require_symbols: false,
        temporary_password_validity_days: 7,
    },
};

pub const CLIENT: ClientSettings = ClientSettings {
    client_name: "web",
    generate_secret: false,
    explicit_auth_flows: &["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    prevent_user_existence_errors: "ENABLED",
    access_token_validity_minutes: 60,
    id_token_validity_minutes: 60,
    refresh_token_validity_days: 30,
    enable_token_revocation: true,
};

/// Every tenant pool is listed in the Identity Pool with the server-side token check on: a user
/// signed out globally or deleted in the pool gets no more credentials.
pub const SERVER_SIDE_TOKEN_CHECK: bool = true;

/// The User Pool tag naming the tenant a pool belongs to (`tenant=<tenantId>`): how onboard finds
/// the pool it created (or the template's demo pool) again, so a second run never makes a
/// second pool.
pub const TENANT_TAG: &str = "tenant";
/// The User Pool tag naming the Identity Pool the tenant is served through. Two stacks in one
/// account (staging, production) may both have a tenant `acme`; this keeps each onboard to its
/// own stack's pools.
pub const IDENTITY_POOL_TAG: &str = "identity-pool";

impl UserPoolSettings {
    /// The settings as CloudFormation properties (= `CreateUserPool` input), without
    /// `UserPoolName` / `PoolName` and `UserPoolTags`.
    pub fn properties(&self) -> Value {
        let p = &self.password_policy;
        json!({
            "DeletionProtection": self.deletion_protection,
            "UsernameAttributes": self.username_attributes,
            "AutoVerifiedAttributes": self.auto_verified_attributes,
            "AdminCreateUserConfig": { "AllowAdminCreateUserOnly": self.allow_admin_create_user_only },
            "Policies": { "PasswordPolicy": {
                "MinimumLength": p.minimum_length,
                "RequireLowercase": p.require_lowercase,
                "RequireUppercase": p.require_uppercase,
                "RequireNumbers": p.require_numbers,
                "RequireSymbols": p.require_symbols,
                "TemporaryPasswordValidityDays": p.temporary_password_validity_days,
            }},
        })
    }
}

impl ClientSettings {
    /// The settings as CloudFormation properties (= `CreateUserPoolClient` input), without
    /// `UserPoolId`.
    pub fn properties(&self) -> Value {
        json!({
            "ClientName": self.client_name,
            "GenerateSecret": self.generate_secret,
            "ExplicitAuthFlows": self.explicit_auth_flows,
            "PreventUserExistenceErrors": self.prevent_user_existence_errors,
            "AccessTokenValidity": self.access_token_validity_minutes,
            "IdTokenValidity": self.id_token_validity_minutes,
            "RefreshTokenValidity": self.refresh_token_validity_days,
            "TokenValidityUnits": {
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "days",
            },
            "EnableTokenRevocation": self.enable_token_revocation,
        })
    }
}

/// Does a temporary password meet [`USER_POOL`]'s policy? Checked before Cognito sees it, so a
/// bad `--temporary-password` fails before any step runs.
pub fn meets_password_policy(password: &str) -> bool {
    let p = &USER_POOL.password_policy;
    let len = i32::try_from(password.chars().count()).unwrap_or(i32::MAX);
    len >= p.minimum_length
        && len <= 256
        && (!p.require_lowercase || password.chars().any(|c| c.is_ascii_lowercase()))
        && (!p.require_uppercase || password.chars().any(|c| c.is_ascii_uppercase()))
        && (!p.require_numbers || password.chars().any(|c| c.is_ascii_digit()))
        && (!p.require_symbols || password.chars().any(|c| c.is_ascii_punctuation()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_carry_every_setting() {
        let pool = USER_POOL.properties();
        assert_eq!(pool["DeletionProtection"], "ACTIVE");
        assert_eq!(pool["Policies"]["PasswordPolicy"]["MinimumLength"], 12);
        let client = CLIENT.properties();
        assert_eq!(
            client["ExplicitAuthFlows"],
            json!(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
        );
        assert_eq!(client["TokenValidityUnits"]["RefreshToken"], "days");
    }

    #[test]
    fn the_password_policy_is_checked_locally() {
        assert!(meets_password_policy("Admin-Local-Demo-1"));
        for bad in [
            "short-A1",
            "no-upper-case-1",
            "NO-LOWER-CASE-1",
            "No-Digits-Here",
        ] {
            assert!(!meets_password_policy(bad), "{bad}");
        }
    }
}
