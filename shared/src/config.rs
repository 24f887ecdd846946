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
    /// Key for the MAC on `nextToken`s. Isolation never depends on it (a token's keys are
    /// always rebuilt under the caller's tenant); it makes tampering detectable, which a key
    /// anyone can derive does not. Deployed, it is the Secrets Manager secret named by
    /// `PAGE_TOKEN_SECRET_ARN` (read once at cold start, see [`crate::lambda::App::from_env`]);
    /// locally and in tests `PAGE_TOKEN_SECRET` (≥ 32 bytes); with neither, a key derived from
    /// the table name — the documented local default only.
    pub page_token_secret: Vec<u8>,
    /// `PAGE_TOKEN_SECRET_ARN`: the secret to read [`Config::page_token_secret`] from.
    pub page_token_secret_arn: Option<String>,
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
        let page_token_secret_arn = non_empty("PAGE_TOKEN_SECRET_ARN");
        let page_token_secret = match (non_empty("PAGE_TOKEN_SECRET"), &page_token_secret_arn) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    name: "PAGE_TOKEN_SECRET",
                    why: "set PAGE_TOKEN_SECRET or PAGE_TOKEN_SECRET_ARN, not both".into(),
                });
            }
            (Some(v), None) => page_token_key(v.into_bytes(), "PAGE_TOKEN_SECRET")?,
            // Replaced by the secret's value at cold start.
            (None, Some(_)) => Vec::new(),
            // Local default: the table name keys the MAC — stable across all functions of one
            // stack, which a token handed between them needs, but derivable by anyone.
            (None, None) => format!("page-token:{table_name}").into_bytes(),
        };
        let tenant_role_arn = non_empty("TENANT_ROLE_ARN");
        Ok(Config {
            table_name,
            identity_pool_id,
            tenant_cache_ttl,
            page_token_secret,
            page_token_secret_arn,
            tenant_role_arn,
        })
    }
}

/// The shortest page-token key accepted: a MAC key shorter than its hash's 32 bytes is a
/// configuration mistake, refused at cold start rather than used.
pub const MIN_PAGE_TOKEN_SECRET_BYTES: usize = 32;

/// A configured page-token key, if long enough.
pub fn page_token_key(key: Vec<u8>, name: &'static str) -> Result<Vec<u8>, ConfigError> {
    if key.len() < MIN_PAGE_TOKEN_SECRET_BYTES {
        return Err(ConfigError::Invalid {
            name,
            why: format!(
                "the page-token secret must be at least {MIN_PAGE_TOKEN_SECRET_BYTES} bytes, got {}",
                key.len()
            ),
        });
    }
    Ok(key)
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
    fn page_token_secrets() {
        let long = "k".repeat(32);
        let c = cfg(&[("TABLE_NAME", "t"), ("PAGE_TOKEN_SECRET", &long)]).unwrap();
        assert_eq!(c.page_token_secret, long.as_bytes());
        assert!(matches!(
            cfg(&[("TABLE_NAME", "t"), ("PAGE_TOKEN_SECRET", "short")]),
            Err(ConfigError::Invalid {
                name: "PAGE_TOKEN_SECRET",
                ..
            })
        ));
        let arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:pt-AbCdEf";
        let c = cfg(&[("TABLE_NAME", "t"), ("PAGE_TOKEN_SECRET_ARN", arn)]).unwrap();
        assert_eq!(c.page_token_secret_arn.as_deref(), Some(arn));
        assert!(
            cfg(&[
                ("TABLE_NAME", "t"),
                ("PAGE_TOKEN_SECRET_ARN", arn),
                ("PAGE_TOKEN_SECRET", &long)
            ])
            .is_err()
        );
        // Neither: the documented local default.
        let c = cfg(&[("TABLE_NAME", "t")]).unwrap();
        assert_eq!(c.page_token_secret, b"page-token:t");
    }

    #[test]
    fn missing_or_bad_values_fail_at_cold_start() {
        assert!(matches!(cfg(&[]), Err(ConfigError::Missing("TABLE_NAME"))));
        assert!(cfg(&[("TABLE_NAME", "t"), ("TENANT_CACHE_TTL_SECONDS", "soon")]).is_err());
        let c = cfg(&[("TABLE_NAME", "t"), ("IDENTITY_POOL_ID", " ")]).unwrap();
        assert_eq!(c.identity_pool_id, None);
    }
}
