//! Which Identity Pool a tenant goes into, and the next pool when every pool is full.
//!
//! The registry (`shared::store::admin`'s `identity_pools`) counts tenants per pool and hints
//! which have room; this module is the Cognito and IAM half: the stack's first pool entered into
//! the registry once, and — under the registry's lease, so one tenantctl at a time — the next
//! pool created with the first one's settings (no guests: the first pool serves every guest),
//! its authenticated role (the stack's `UserRole`), and that role's trust rendered from the
//! registry's list of pools and read back before any tenant is placed in it.
//!
//! Where the list lives: the registry's `POOL#` items are the source; the `UserRole`'s trust
//! policy (`cognito-identity.amazonaws.com:aud`, StringEquals, every pool by exact id — never a
//! wildcard, which would let a pool of any account assume the role) is rendered from them and
//! only by the lease holder, so two writers never interleave. `sync-identity-pool` renders it
//! again (after a `sam deploy` that changed the role, which writes the template's one pool).

use std::time::{Duration, Instant};

use serde_json::Value;
use shared::store::admin::Placement;
use shared::tenancy::TenantId;

use crate::Ctx;
use crate::error::{Error, Result};
use crate::identity_pool::IdentityPool;

/// How long a lease on creating a pool lasts: longer than creating one takes (a few calls).
const LEASE_MS: i64 = 120_000;
/// The condition key the roles' trust lists the pools under.
const AUD: &str = "cognito-identity.amazonaws.com:aud";
/// IAM's default limit on a role's trust policy (characters, whitespace not counted); 4,096
/// after a quota increase ("Role trust policy length"). `TENANTCTL_TRUST_POLICY_MAX_CHARS`
/// overrides it after such an increase.
const TRUST_POLICY_MAX_CHARS: usize = 2048;

/// Where a tenant was placed, as onboard reports it.
#[derive(Debug, Clone)]
pub struct Placed {
    pub pool: IdentityPool,
    /// "bound" (registry record), "placed" (now), "placed before" (a rerun).
    pub how: &'static str,
    /// An Identity Pool this run created for it.
    pub created: Option<String>,
}

/// Places `tenant` (bound already: its pool), creating the next pool when all are full.
pub async fn place(
    ctx: &Ctx,
    tenant: &TenantId,
    bound: Option<&str>,
    capacity: u32,
) -> Result<Placed> {
    if let Some(id) = bound {
        return Ok(Placed {
            pool: ctx.identity.for_pool(id),
            how: "bound",
            created: None,
        });
    }
    let mut created = None;
    for _ in 0..4 {
        match ctx.db.pools_place(tenant, capacity).await? {
            Placement::Placed {
                identity_pool_id,
                new,
            } => {
                return Ok(Placed {
                    pool: ctx.identity.for_pool(&identity_pool_id),
                    how: if new { "placed" } else { "placed before" },
                    created,
                });
            }
            // No room hint at all on a registry that never entered the first pool: enter it
            // (once, with the tenants it lists already) and place again. Checked only here, so
            // an ordinary onboarding pays no read for it.
            Placement::NoRoom if !ctx.db.pools_known().await? => {
                let first = ctx.identity.describe().await?;
                let listed = u32::try_from(first.user_pool_count()).unwrap_or(u32::MAX);
                ctx.db.pools_bootstrap(ctx.identity.id(), listed).await?;
            }
            Placement::NoRoom => {
                if let Some(id) = next_pool(ctx).await? {
                    created = Some(id);
                }
            }
        }
    }
    Err(Error::Refused(format!(
        "No Identity Pool with room for tenant {tenant}: other onboardings took every slot of the \
         pools opened meanwhile; run onboard again."
    )))
}

/// Waits for the lease on creating pools (and rendering the trust): the holder's name and the
/// lease as granted.
async fn lease(ctx: &Ctx) -> Result<(String, shared::store::admin::PoolLease)> {
    let holder = format!(
        "tenantctl-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    );
    let waited = Instant::now();
    loop {
        if let Some(lease) = ctx.db.pools_lease(&holder, LEASE_MS).await? {
            return Ok((holder, lease));
        }
        if waited.elapsed() > Duration::from_millis(2 * LEASE_MS as u64) {
            return Err(Error::Refused(
                "Another tenantctl holds the lease on creating Identity Pools and has not given \
                 it back; run again."
                    .into(),
            ));
        }
        eprintln!("waiting for another tenantctl creating the next Identity Pool...");
        tokio::time::sleep(Duration::from_millis(500 + fastrand::u64(..500))).await;
    }
}

/// `sync-identity-pool`'s trust render, under the lease like a pool's creation, so it never
/// writes a list older than one an onboarding just wrote.
pub async fn render_role_trust_leased(ctx: &Ctx, role_arn: &str) -> Result<usize> {
    let (holder, _) = lease(ctx).await?;
    let result = render_role_trust(ctx, role_arn, None).await;
    ctx.db.pools_unlease(&holder).await?;
    result
}

/// Under the lease: creates (or finishes) the next pool, unless one has room by then. The id of
/// a pool this call created.
async fn next_pool(ctx: &Ctx) -> Result<Option<String>> {
    let (holder, lease) = lease(ctx).await?;
    let result = async {
        if let Some(id) = &lease.creating {
            eprintln!("identity pool {id}: created by a tenantctl that stopped; finishing it");
            open(ctx, &holder, id).await?;
            return Ok(None);
        }
        if ctx.db.pools_room().await? {
            return Ok(None);
        }
        let seq = lease.last_seq + 1;
        // Would the trust still fit with one more pool? Checked before the pool exists: a pool
        // created and never opened would stay in the account (tenantctl deletes no pool).
        let role_arn = authenticated_role(ctx).await?;
        render_role_trust(ctx, &role_arn, Some(PLACEHOLDER_POOL)).await?;
        let id = create(ctx, seq).await?;
        ctx.db.pools_begin(&holder, seq, &id).await?;
        open(ctx, &holder, &id).await?;
        Ok(Some(id))
    }
    .await;
    ctx.db.pools_unlease(&holder).await?;
    result
}

/// Creates pool number `seq` with the first pool's settings, without providers or guests.
async fn create(ctx: &Ctx, seq: u32) -> Result<String> {
    let first = ctx.identity.describe().await?;
    let name = pool_name(&first.name, seq);
    // AWS's own tags (aws:cloudformation:...) are not the caller's to set.
    let mut tags = first.tags.clone().unwrap_or_default();
    tags.retain(|k, _| !k.starts_with("aws:"));
    tags.insert("tenantctl:first-identity-pool".into(), first.id.clone());
    tags.insert("tenantctl:seq".into(), seq.to_string());
    let out = ctx
        .identity
        .client()
        .create_identity_pool()
        .identity_pool_name(&name)
        // Guests get the first pool's credentials only: a guest belongs to no tenant, and one
        // guest pool keeps the guest role's trust fixed.
        .allow_unauthenticated_identities(false)
        .set_allow_classic_flow(first.allow_classic_flow)
        .set_identity_pool_tags(Some(tags))
        .send()
        .await
        .map_err(|e| Error::cognito("CreateIdentityPool", e))?;
    let id = out.identity_pool_id().to_owned();
    eprintln!("identity pool {id} ({name}): created, number {seq}");
    Ok(id)
}

/// `<first pool's name>_<seq>`: Identity Pool names are `[\w ]+`, at most 128 characters.
fn pool_name(first: &str, seq: u32) -> String {
    let suffix = format!("_{seq}");
    let keep: String = first.chars().take(128 - suffix.len()).collect();
    format!("{keep}{suffix}")
}

/// Gives pool `id` the first pool's authenticated role, puts it in that role's trust (rendered
/// from the registry, read back), then opens it for placements.
async fn open(ctx: &Ctx, holder: &str, id: &str) -> Result<()> {
    let role_arn = authenticated_role(ctx).await?;
    ctx.identity
        .client()
        .set_identity_pool_roles()
        .identity_pool_id(id)
        .roles("authenticated", &role_arn)
        .send()
        .await
        .map_err(|e| Error::cognito("SetIdentityPoolRoles", e))?;
    render_role_trust(ctx, &role_arn, None).await?;
    ctx.db.pools_open(holder, id).await?;
    eprintln!("identity pool {id}: role {role_arn} trusts it; open for tenants");
    Ok(())
}

/// The first pool's authenticated role: every pool gets it.
pub async fn authenticated_role(ctx: &Ctx) -> Result<String> {
    let roles = ctx
        .identity
        .client()
        .get_identity_pool_roles()
        .identity_pool_id(ctx.identity.id())
        .send()
        .await
        .map_err(|e| Error::cognito("GetIdentityPoolRoles", e))?;
    roles
        .roles()
        .and_then(|r| r.get("authenticated"))
        .cloned()
        .ok_or_else(|| {
            Error::Refused(format!(
                "Identity Pool {} has no authenticated role to give a new pool.",
                ctx.identity.id()
            ))
        })
}

/// A pool id of the longest shape (`<region>:<uuid>`), for the length check before a create.
const PLACEHOLDER_POOL: &str = "ap-southeast-3:00000000-0000-0000-0000-000000000000";

/// Writes the role's trust with every pool the registry records as its audience, then reads it
/// back: the lease holder's write only, so what it reads is what it wrote (anything else is
/// reported, not overwritten again). With `check_extra`, only checks that one more pool would
/// still fit, writing nothing.
pub async fn render_role_trust(
    ctx: &Ctx,
    role_arn: &str,
    check_extra: Option<&str>,
) -> Result<usize> {
    let mut pools = ctx.db.pools_ids(ctx.identity.id()).await?;
    pools.extend(check_extra.map(str::to_owned));
    let name = role_name(role_arn)?;
    let current = role_trust(ctx, name).await?;
    let desired = with_audience(&current, &pools)?;
    let max = std::env::var("TENANTCTL_TRUST_POLICY_MAX_CHARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(TRUST_POLICY_MAX_CHARS);
    let text = serde_json::to_string(&desired).map_err(|e| Error::Usage(e.to_string()))?;
    if text.len() > max {
        return Err(Error::Refused(format!(
            "The trust policy of {name} listing {} Identity Pools is {} characters, over the \
             account's limit of {max}: request \"Role trust policy length\" 4,096 in Service \
             Quotas (then set TENANTCTL_TRUST_POLICY_MAX_CHARS=4096), or raise the pools' \
             capacity (User Pool providers per identity pool, up to 1,000).",
            pools.len(),
            text.len()
        )));
    }
    if check_extra.is_some() {
        return Ok(pools.len());
    }
    if desired != current {
        ctx.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(&text)
            .send()
            .await
            .map_err(|e| Error::cognito("UpdateAssumeRolePolicy", e))?;
    }
    // IAM is eventually consistent: a read right after the write may still show the old one.
    for attempt in 0..5u32 {
        let back = role_trust(ctx, name).await?;
        if audience(&back) == audience(&desired) {
            return Ok(pools.len());
        }
        if attempt < 4 {
            tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        }
    }
    Err(Error::Refused(format!(
        "The trust policy of {name} read back does not list the Identity Pools just written \
         (something else changed it); run `tenantctl sync-identity-pool`."
    )))
}

async fn role_trust(ctx: &Ctx, name: &str) -> Result<Value> {
    let out = ctx
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| Error::cognito("GetRole", e))?;
    let encoded = out
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .unwrap_or_default();
    // IAM returns the document URL-encoded.
    let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
    serde_json::from_str(&decoded)
        .map_err(|e| Error::Refused(format!("the trust policy of role {name} is not JSON: {e}")))
}

/// `arn:aws:iam::<account>:role/<path/>name` → `name`.
fn role_name(arn: &str) -> Result<&str> {
    arn.split_once(":role/")
        .and_then(|(_, rest)| rest.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::Refused(format!("{arn} is not an IAM role ARN")))
}

/// The statements that let Cognito assume the role for signed-in identities.
fn is_cognito_statement(st: &Value) -> bool {
    st.get("Effect") == Some(&Value::from("Allow"))
        && st.pointer("/Principal/Federated")
            == Some(&Value::from("cognito-identity.amazonaws.com"))
}

/// The pools a trust document's Cognito statements name as `aud` (sorted).
fn audience(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = statements(doc)
        .into_iter()
        .filter(|st| is_cognito_statement(st))
        .filter_map(|st| {
            st.pointer("/Condition/StringEquals")
                .and_then(|c| c.get(AUD))
        })
        .flat_map(|v| match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// `doc` with every Cognito statement's `aud` set to `pools` (sorted, exact ids). Refused when
/// there is no such statement, or one matches `aud` with a pattern.
fn with_audience(doc: &Value, pools: &[String]) -> Result<Value> {
    let mut pools: Vec<String> = pools.to_vec();
    pools.sort();
    pools.dedup();
    let mut out = doc.clone();
    let mut found = 0;
    let list = |st: &mut Value| -> Result<bool> {
        if !is_cognito_statement(st) {
            return Ok(false);
        }
        if st
            .pointer(&format!("/Condition/StringLike/{}", AUD.replace('/', "~1")))
            .is_some()
        {
            return Err(Error::Refused(
                "the role's trust matches cognito-identity.amazonaws.com:aud with StringLike: \
                 a pattern admits pools of any account; list the pools by exact id instead"
                    .into(),
            ));
        }
        let Some(eq) = st
            .pointer_mut("/Condition/StringEquals")
            .and_then(Value::as_object_mut)
            .filter(|eq| eq.contains_key(AUD))
        else {
            // A statement for Cognito that names no exact pools admits every pool of every
            // account: refused, not left as it is.
            return Err(Error::Refused(
                "the role's trust has a statement for cognito-identity.amazonaws.com without \
                 StringEquals on cognito-identity.amazonaws.com:aud; list the pools by exact id"
                    .into(),
            ));
        };
        eq.insert(
            AUD.into(),
            Value::Array(pools.iter().cloned().map(Value::from).collect()),
        );
        Ok(true)
    };
    match out.get_mut("Statement") {
        Some(Value::Array(a)) => {
            for st in a.iter_mut() {
                found += usize::from(list(st)?);
            }
        }
        Some(one @ Value::Object(_)) => found += usize::from(list(one)?),
        _ => {}
    }
    if found == 0 {
        return Err(Error::Refused(
            "the role's trust has no statement for cognito-identity.amazonaws.com with an aud \
             condition (StringEquals) to list the Identity Pools in"
                .into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trust(aud: Value) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": aud},
                    "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}
                }
            }]
        })
    }

    #[test]
    fn the_audience_becomes_every_pool_by_exact_id_and_amr_stays() {
        let doc = trust(json!("eu-central-1:one"));
        let pools = ["eu-central-1:two".to_owned(), "eu-central-1:one".to_owned()];
        let out = with_audience(&doc, &pools).unwrap();
        assert_eq!(
            out.pointer("/Statement/0/Condition/StringEquals/cognito-identity.amazonaws.com:aud"),
            Some(&json!(["eu-central-1:one", "eu-central-1:two"]))
        );
        assert_eq!(
            out.pointer("/Statement/0/Condition/ForAnyValue:StringLike"),
            doc.pointer("/Statement/0/Condition/ForAnyValue:StringLike")
        );
        assert_eq!(audience(&out), ["eu-central-1:one", "eu-central-1:two"]);
        assert_eq!(audience(&doc), ["eu-central-1:one"]);
    }

    #[test]
    fn a_pattern_or_a_missing_statement_is_refused() {
        let mut doc = trust(json!("eu-central-1:one"));
        doc["Statement"][0]["Condition"]["StringLike"] =
            json!({"cognito-identity.amazonaws.com:aud": "eu-central-1:*"});
        assert!(with_audience(&doc, &["x".into()]).is_err());
        let other = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]});
        assert!(with_audience(&other, &["x".into()]).is_err());
        // A second Cognito statement without an exact aud would admit any pool: refused too.
        let mut two = trust(json!("eu-central-1:one"));
        two["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}));
        assert!(with_audience(&two, &["x".into()]).is_err());
    }

    #[test]
    fn role_names_and_pool_names() {
        assert_eq!(
            role_name("arn:aws:iam::123456789012:role/path/notes-UserRole-ABC").unwrap(),
            "notes-UserRole-ABC"
        );
        assert!(role_name("arn:aws:iam::123456789012:user/x").is_err());
        assert_eq!(pool_name("notes_identities", 12), "notes_identities_12");
        assert_eq!(pool_name(&"a".repeat(200), 3).len(), 128);
    }
}
