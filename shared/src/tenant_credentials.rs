//! Defense in depth (opt-in, `TENANT_ROLE_ARN`): tenant data is read and written with
//! credentials that can reach only that tenant's partition.
//!
//! The function assumes `TENANT_ROLE_ARN` with the session tag `tenant=<tenantId>`; that role's
//! policy (template.yaml, `TenantDataRole`) allows DynamoDB only where `dynamodb:LeadingKeys` is
//! `TENANT#${aws:PrincipalTag/tenant}` (the AWS SaaS Factory pattern). Even a bug that built
//! another tenant's key would then be refused by IAM. Credentials are cached per tenant and
//! refreshed before they expire. DynamoDB Local does not evaluate IAM: here the session request
//! and the policy document are unit-tested; the enforcement itself happens only in AWS.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_sts::types::Tag;
use tokio::sync::Mutex;

use crate::error::AppError;
use crate::store::Db;
use crate::tenancy::TenantId;

/// The session tag key the role policy reads (`aws:PrincipalTag/tenant`).
pub const TENANT_TAG: &str = "tenant";
/// Assumed-role sessions last 15 minutes (the STS minimum) ...
const SESSION_SECONDS: i32 = 900;
/// ... and are replaced 5 minutes before they end.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// What `AssumeRole` is called with for a tenant: session name and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    pub session_name: String,
    pub tags: Vec<(String, String)>,
}

/// The session for `tenant`. The tag value is the tenant id verbatim: the role policy builds the
/// allowed partition (`TENANT#<id>`) from it, exactly as the store builds keys.
pub fn session_request(tenant: &TenantId) -> SessionRequest {
    SessionRequest {
        // Session names allow [\w+=,.@-], 2-64 characters; tenant ids are [a-z0-9-], ≤ 64.
        session_name: format!("tenant-{}", tenant.as_str())
            .chars()
            .take(64)
            .collect(),
        tags: vec![(TENANT_TAG.to_owned(), tenant.as_str().to_owned())],
    }
}

/// Per-tenant DynamoDB handles built from tenant-scoped credentials.
pub struct TenantCredentials {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    base: aws_sdk_dynamodb::config::Builder,
    table: String,
    cache: Mutex<HashMap<TenantId, (Db, SystemTime)>>,
}

impl TenantCredentials {
    /// `base`: the DynamoDB client configuration every tenant's client starts from (budget and
    /// capacity meter included); only the credentials differ.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        base: aws_sdk_dynamodb::config::Builder,
        role_arn: String,
        table: String,
    ) -> Self {
        TenantCredentials {
            sts: aws_sdk_sts::Client::new(sdk),
            role_arn,
            base,
            table,
            cache: Mutex::default(),
        }
    }

    /// A table handle whose every request is signed with `tenant`'s scoped credentials.
    pub async fn db_for(&self, tenant: &TenantId) -> Result<Db, AppError> {
        let mut cache = self.cache.lock().await;
        if let Some((db, expires)) = cache.get(tenant)
            && SystemTime::now() + REFRESH_MARGIN < *expires
        {
            return Ok(db.clone());
        }
        let req = session_request(tenant);
        let mut call = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&req.session_name)
            .duration_seconds(SESSION_SECONDS);
        for (k, v) in &req.tags {
            call = call.tags(
                Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| AppError::internal("session tag", e))?,
            );
        }
        let out = call.send().await.map_err(|e| {
            AppError::internal(
                "AssumeRole for tenant credentials",
                aws_sdk_sts::error::DisplayErrorContext(&e),
            )
        })?;
        let c = out
            .credentials
            .ok_or_else(|| AppError::Internal("AssumeRole returned no credentials".into()))?;
        let expires = SystemTime::try_from(c.expiration)
            .unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(SESSION_SECONDS as u64));
        let creds = Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            Some(expires),
            "tenant-scoped",
        );
        let conf = self.base.clone().credentials_provider(creds).build();
        let db = Db::new(
            aws_sdk_dynamodb::Client::from_conf(conf),
            self.table.clone(),
        );
        cache.insert(tenant.clone(), (db.clone(), expires));
        Ok(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_is_tagged_with_exactly_the_tenant() {
        let t = TenantId::parse("acme").unwrap();
        let r = session_request(&t);
        assert_eq!(r.tags, vec![("tenant".to_owned(), "acme".to_owned())]);
        assert_eq!(r.session_name, "tenant-acme");
    }

    #[test]
    fn session_names_stay_within_sts_limits() {
        let long = TenantId::parse(&"a".repeat(64)).unwrap();
        let r = session_request(&long);
        assert!(r.session_name.len() <= 64 && r.session_name.len() >= 2);
        assert!(
            r.session_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
        );
        // The tag value is never truncated: it must name the whole tenant.
        assert_eq!(r.tags[0].1, "a".repeat(64));
    }
}
