//! Configuration, read once at cold start into a typed struct.

use std::time::Duration;

/// Everything a function or `tenantctl` reads from its environment besides the standard AWS SDK
/// variables (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB`), which the SDK reads itself.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the one table holding the tenant registry and every tenant's items.
    pub table_name: String,
    /// `IDENTITY_POOL_ID`: when set, identities from any other pool are refused.
    pub identity_pool_id: Option<String>,
    /// `TENANT_CACHE_TTL_SECONDS` (default 60): how long a warm function trusts a registry read.
    pub tenant_cache_ttl: Duration,
    /// `PAGE_TOKEN_SECRET`: key for the MAC on `nextToken`s. Isolation never depends on it (a
    /// token's keys are always rebuilt under the caller's tenant); it makes tampering detectable.
    pub page_token_secret: Vec<u8>,
    /// `TENANT_ROLE_ARN`: when set, tenant data is accessed with credentials of this role,
    /// assumed per tenant with the session tag `tenant=<id>` (see `tenant_credentials`).
    pub tenant_role_arn: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as [`Config::from_env`] over any lookup, so tests need not touch the process env.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let table_name = non_empty("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let identity_pool_id = non_empty("IDENTITY_POOL_ID");
        let tenant_cache_ttl = match non_empty("TENANT_CACHE_TTL_SECONDS") {
            None => Duration::from_secs(60),
            Some(v) => Duration::from_secs(v.parse::<u64>().map_err(|e| ConfigError::Invalid {
                name: "TENANT_CACHE_TTL_SECONDS",
                why: e.to_string(),
            })?),
        };
        // Without a configured secret the table name keys the MAC: stable across all functions
        // of one deployment, which is what a page token handed between them needs.
        let page_token_secret = non_empty("PAGE_TOKEN_SECRET")
            .unwrap_or_else(|| format!("page-token:{table_name}"))
            .into_bytes();
        let tenant_role_arn = non_empty("TENANT_ROLE_ARN");
        Ok(Config {
            table_name,
            identity_pool_id,
            tenant_cache_ttl,
            page_token_secret,
            tenant_role_arn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_and_overrides() {
        let c = cfg(&[("TABLE_NAME", "notes")]).unwrap();
        assert_eq!(c.tenant_cache_ttl, Duration::from_secs(60));
        assert_eq!(c.identity_pool_id, None);
        let c = cfg(&[
            ("TABLE_NAME", "notes"),
            ("TENANT_CACHE_TTL_SECONDS", "0"),
            ("IDENTITY_POOL_ID", "eu-central-1:x"),
        ])
        .unwrap();
        assert_eq!(c.tenant_cache_ttl, Duration::ZERO);
        assert_eq!(c.identity_pool_id.as_deref(), Some("eu-central-1:x"));
    }

    #[test]
    fn missing_or_bad_values_fail_at_cold_start() {
        assert!(matches!(cfg(&[]), Err(ConfigError::Missing("TABLE_NAME"))));
        assert!(cfg(&[("TABLE_NAME", "t"), ("TENANT_CACHE_TTL_SECONDS", "soon")]).is_err());
        let c = cfg(&[("TABLE_NAME", "t"), ("IDENTITY_POOL_ID", " ")]).unwrap();
        assert_eq!(c.identity_pool_id, None);
    }
}
