//! Ending open subscriptions (`tenantctl suspend`, `offboard`, `remove-user`): the operator
//! mutation `invalidateTenantSubscriptions(tenantId, userSub)`, signed with the operator's own
//! AWS credentials (the stack's `OperatorPolicy` grants it; no Identity Pool role does). AppSync
//! then ends every subscription whose invalidation filter matches and closes its connection
//! (docs/design/real-time.md, "Invalidation"):
//! - by tenant: every `onNoteChanged` and `onPublicNoteChanged` subscription of the tenant;
//! - by user (`userSub`, the User Pool `sub`): that user's `onNoteChanged` subscriptions in the
//!   tenant only (shared/src/realtime.rs `member_invalidation_filter` says why the sub).

use std::time::Duration;

use iam_graphql::IamGraphql;
use serde_json::json;
use shared::AppError;
use shared::tenancy::TenantId;

const INVALIDATE: &str = "mutation End($tenantId: ID!) { \
     invalidateTenantSubscriptions(tenantId: $tenantId) { tenantId subscriptionFields } }";
const INVALIDATE_USER: &str = "mutation EndUser($tenantId: ID!, $userSub: String!) { \
     invalidateTenantSubscriptions(tenantId: $tenantId, userSub: $userSub) { tenantId subscriptionFields } }";

/// Whose subscriptions end.
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    Tenant(&'a TenantId),
    /// A user of the tenant, by User Pool `sub`.
    User(&'a TenantId, &'a str),
}

/// The signed client of the API's GraphQL endpoint.
pub struct Invalidator {
    client: IamGraphql,
}

impl Invalidator {
    /// A client for `url` with the operator's credentials (the standard AWS environment).
    pub async fn connect(url: &str) -> Result<Self, AppError> {
        let sdk = aws_config::load_from_env().await;
        let client =
            IamGraphql::from_sdk(&sdk, url).map_err(|e| AppError::Validation(e.to_string()))?;
        Ok(Invalidator { client })
    }

    /// One invalidateTenantSubscriptions call.
    pub async fn invalidate(&self, whose: Whose<'_>) -> Result<(), AppError> {
        let (query, vars) = match whose {
            Whose::Tenant(t) => (INVALIDATE, json!({ "tenantId": t.as_str() })),
            Whose::User(t, sub) => (
                INVALIDATE_USER,
                json!({ "tenantId": t.as_str(), "userSub": sub }),
            ),
        };
        self.client
            .execute(query, vars)
            .await
            .map_err(|e| AppError::Unavailable(format!("invalidateTenantSubscriptions: {e}")))?;
        Ok(())
    }

    /// Ends the subscriptions now and once more after `cache_ttl`: until the functions' cached
    /// tenant expires they may still admit a new subscription, and the second call ends those.
    /// `say` reports progress (stdout for suspend, stderr where stdout is a JSON report).
    pub async fn end_twice(
        &self,
        whose: Whose<'_>,
        cache_ttl: Duration,
        say: impl Fn(String),
    ) -> Result<(), AppError> {
        self.invalidate(whose).await?;
        say(format!("ended {}'s open subscriptions", name(whose)));
        if !cache_ttl.is_zero() {
            say(format!(
                "waiting {}s (TENANT_CACHE_TTL_SECONDS) to end subscriptions the functions admitted meanwhile",
                cache_ttl.as_secs()
            ));
            tokio::time::sleep(cache_ttl).await;
            self.invalidate(whose).await?;
            say(format!(
                "ended {}'s subscriptions opened while the caches expired",
                name(whose)
            ));
        }
        Ok(())
    }
}

fn name(whose: Whose<'_>) -> String {
    match whose {
        Whose::Tenant(t) => t.to_string(),
        Whose::User(t, sub) => format!("{t} user {sub}"),
    }
}

/// What stays open without a GraphQL URL (said on stderr by every command that ends some).
pub fn no_url_warning(whose: Whose<'_>) -> String {
    format!(
        "no --graphql-url (GRAPHQL_URL): {}'s open subscriptions stay open until their \
         connections end; pass the stack's GraphQLUrl output to end them",
        name(whose)
    )
}

/// `tenantctl suspend`: ends `tenant`'s open subscriptions at `url`, now and after `cache_ttl`.
/// Without a URL, says what stays open and does nothing.
pub async fn end(
    url: Option<&str>,
    tenant: &TenantId,
    cache_ttl: Duration,
) -> Result<(), AppError> {
    let Some(url) = url else {
        eprintln!(
            "tenantctl: {} (they get nothing new once the functions refuse the tenant, within \
             TENANT_CACHE_TTL_SECONDS)",
            no_url_warning(Whose::Tenant(tenant))
        );
        return Ok(());
    };
    Invalidator::connect(url)
        .await?
        .end_twice(Whose::Tenant(tenant), cache_ttl, |l| println!("{l}"))
        .await
}
