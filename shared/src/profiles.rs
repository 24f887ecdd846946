//! Author profiles and roles inside a tenant. Plain types and rules; the store enforces them
//! with conditions.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::identity::IdentityId;
use crate::validated::validated_string;

pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Member,
    Admin,
}

/// GraphQL `Profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub identity_id: IdentityId,
    pub display_name: DisplayName,
    pub role: Role,
    pub updated_at: String,
}

validated_string! {
    /// A display name: 1–100 characters, not only whitespace.
    pub struct DisplayName(String) = DisplayName::parse;
}

impl DisplayName {
    pub fn parse(raw: String) -> Result<Self, AppError> {
        let n = raw.chars().count();
        if n == 0 || n > MAX_DISPLAY_NAME_CHARS || raw.trim().is_empty() {
            return Err(AppError::validation(format!(
                "displayName must be 1-{MAX_DISPLAY_NAME_CHARS} characters and not blank."
            )));
        }
        Ok(DisplayName(raw))
    }

    /// The name of a profile an operator creates (`tenantctl grant-admin`): the identity id
    /// itself. Its alphabet is never blank; an id longer than a name may be is cut to the limit.
    pub fn of_identity(id: &IdentityId) -> Self {
        DisplayName(id.as_str().chars().take(MAX_DISPLAY_NAME_CHARS).collect())
    }
}

/// Proof that a caller is an ADMIN of its tenant: made only from its profile as read now.
#[derive(Debug, Clone)]
pub struct Admin {
    identity_id: IdentityId,
}

impl Admin {
    pub fn from_profile(id: &IdentityId, profile: Option<&Profile>) -> Option<Admin> {
        match profile {
            Some(p) if p.role == Role::Admin && p.identity_id == *id => Some(Admin {
                identity_id: id.clone(),
            }),
            _ => None,
        }
    }

    pub fn identity_id(&self) -> &IdentityId {
        &self.identity_id
    }
}

pub fn not_admin() -> AppError {
    AppError::Forbidden("Only an ADMIN of your tenant may change roles.".into())
}

pub fn last_admin() -> AppError {
    AppError::Conflict(
        "This would leave the tenant without an ADMIN; promote another user first.".into(),
    )
}

pub fn no_profile() -> AppError {
    AppError::NotFound("No user with that identityId has a profile in your tenant.".into())
}

/// An identity id named in an argument: a bad one is the client's mistake, not an auth failure.
pub fn parse_identity_arg(raw: &str) -> Result<IdentityId, AppError> {
    IdentityId::parse(raw)
        .map_err(|_| AppError::validation("identityId is not a Cognito identity id."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert!(DisplayName::parse("Alice".into()).is_ok());
        assert!(DisplayName::parse("é".repeat(100)).is_ok());
        for bad in [String::new(), "   ".into(), "x".repeat(101)] {
            assert!(DisplayName::parse(bad).is_err());
        }
    }

    #[test]
    fn only_an_admin_profile_of_the_same_identity_proves_admin() {
        let me = IdentityId::parse("eu-central-1:me").unwrap();
        let p = |id: &str, role| Profile {
            identity_id: IdentityId::parse(id).unwrap(),
            display_name: DisplayName::parse("x".into()).unwrap(),
            role,
            updated_at: "t".into(),
        };
        assert!(Admin::from_profile(&me, Some(&p("eu-central-1:me", Role::Admin))).is_some());
        assert!(Admin::from_profile(&me, Some(&p("eu-central-1:me", Role::Member))).is_none());
        assert!(Admin::from_profile(&me, Some(&p("eu-central-1:other", Role::Admin))).is_none());
        assert!(Admin::from_profile(&me, None).is_none());
    }

    #[test]
    fn identity_args_are_validation_errors() {
        assert!(matches!(
            parse_identity_arg("a#b"),
            Err(AppError::Validation(_))
        ));
        assert!(parse_identity_arg("eu-central-1:0b5a").is_ok());
    }
}
