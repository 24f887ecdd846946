//! Ending a tenant's open subscriptions (`tenantctl suspend`): the operator mutation
//! `invalidateTenantSubscriptions(tenantId)`, signed with the operator's own AWS credentials
//! (the stack's `OperatorPolicy` grants it; no Identity Pool role does). AppSync then ends every
//! `onNoteChanged` and `onPublicNoteChanged` subscription whose invalidation filter names the
//! tenant and closes its connection (README "Real time").

use std::time::Duration;

use iam_graphql::IamGraphql;
use serde_json::json;
use shared::AppError;
use shared::tenancy::TenantId;

const INVALIDATE: &str = "mutation End($tenantId: ID!) { \
     invalidateTenantSubscriptions(tenantId: $tenantId) { tenantId subscriptionFields } }";

async fn invalidate(client: &IamGraphql, tenant: &TenantId) -> Result<(), AppError> {
    client
        .execute(INVALIDATE, json!({ "tenantId": tenant.as_str() }))
        .await
        .map_err(|e| AppError::Unavailable(format!("invalidateTenantSubscriptions: {e}")))?;
    Ok(())
}

/// Ends `tenant`'s open subscriptions at `url`, now and once more after `cache_ttl`: until the
/// functions' cached "active" expires they may still admit a new subscription of the tenant,
/// and the second call ends those. Without a URL, says what stays open and does nothing.
pub async fn end(
    url: Option<&str>,
    tenant: &TenantId,
    cache_ttl: Duration,
) -> Result<(), AppError> {
    let Some(url) = url else {
        eprintln!(
            "tenantctl: no --graphql-url (GRAPHQL_URL): {tenant}'s open subscriptions stay open \
             until their connections end (they get nothing new once the functions refuse the \
             tenant, within TENANT_CACHE_TTL_SECONDS)"
        );
        return Ok(());
    };
    let sdk = aws_config::load_from_env().await;
    let client =
        IamGraphql::from_sdk(&sdk, url).map_err(|e| AppError::Validation(e.to_string()))?;
    invalidate(&client, tenant).await?;
    println!("ended {tenant}'s open subscriptions");
    if !cache_ttl.is_zero() {
        println!(
            "waiting {}s (TENANT_CACHE_TTL_SECONDS) to end subscriptions the functions admitted meanwhile",
            cache_ttl.as_secs()
        );
        tokio::time::sleep(cache_ttl).await;
        invalidate(&client, tenant).await?;
        println!("ended {tenant}'s subscriptions opened while the caches expired");
    }
    Ok(())
}
