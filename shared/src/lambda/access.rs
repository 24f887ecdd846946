//! Access rules as types: who a resolver admits, decided before its handler runs.

use std::future::Future;

use super::App;
use crate::error::AppError;
use crate::identity::{Caller, User};
use crate::store::TenantStore;
use crate::tenancy::ActiveTenant;

/// Who a resolver admits. The glue turns the parsed [`Caller`] into this before the handler
/// runs, so a handler's signature states its access rule.
pub trait Access: Sized + Send {
    /// Whether admitting a caller may write the first-admin claim ([`Claimant`]).
    const CLAIMS_FIRST_ADMIN: bool = false;
    fn admit(app: &App, caller: Caller) -> impl Future<Output = Result<Self, AppError>> + Send;
    /// The tenant, for the log line.
    fn tenant(&self) -> Option<&ActiveTenant>;
}

/// Anyone with Identity Pool credentials of this stack, guests included. A signed-in user's
/// credentials are this stack's when they come from its first pool (`IDENTITY_POOL_ID`, checked
/// when the identity is parsed) or from the pool the user's tenant is bound to; a user identity of
/// any other pool is refused here, on a public field too (one cached registry read).
impl Access for Caller {
    async fn admit(app: &App, caller: Caller) -> Result<Self, AppError> {
        if let Caller::User(user) = &caller {
            app.registry.vouch_for_pool(user).await?;
        }
        Ok(caller)
    }

    fn tenant(&self) -> Option<&ActiveTenant> {
        None
    }
}

/// A signed-in user of an active tenant, with the only handle that can touch that tenant's notes.
pub struct Member {
    pub user: User,
    pub store: TenantStore,
}

impl Member {
    /// The refusal a guest gets from every field that needs a signed-in user.
    pub(super) fn refuse_guest(_: &Caller) -> AppError {
        AppError::Unauthorized(
            "Sign in to call this field; guests may call only Query.me, Query.publicNotes and \
             Subscription.onPublicNoteChanged."
                .into(),
        )
    }

    /// A user whose tenant the registry has already admitted, with the handle to its data.
    pub(super) async fn of(app: &App, user: User, tenant: ActiveTenant) -> Result<Self, AppError> {
        let db = app.db_for(&tenant).await?;
        Ok(Member {
            user,
            store: TenantStore::new(db, tenant),
        })
    }
}

impl Access for Member {
    async fn admit(app: &App, caller: Caller) -> Result<Self, AppError> {
        match caller {
            guest @ Caller::Guest(_) => Err(Member::refuse_guest(&guest)),
            Caller::User(user) => {
                let tenant = app.registry.tenant_of(&user).await?;
                Member::of(app, user, tenant).await
            }
        }
    }

    fn tenant(&self) -> Option<&ActiveTenant> {
        Some(self.store.tenant())
    }
}

/// A [`Member`] whose call first settles onboard's pending first-admin claim: if they are the
/// first admin `tenantctl onboard` recorded for the tenant, they become ADMIN before the handler
/// runs (once: only while the tenant has no ADMIN; see [`crate::tenancy::PendingAdmin`]).
///
/// Only `Query.myProfile` admits this way — the field every client reads right after sign-in.
/// The claim is a `TransactWriteItems` (Put or Update of the profile, Update of the counters), and
/// only that function's role holds those rights (PutItem/UpdateItem, and only inside a
/// transaction: `dynamodb:EnclosingOperation`); the other member fields' roles stay read-only or
/// hold just their own writes, so a claim there would be refused by IAM on every call.
pub struct Claimant(pub Member);

impl Access for Claimant {
    const CLAIMS_FIRST_ADMIN: bool = true;

    async fn admit(app: &App, caller: Caller) -> Result<Self, AppError> {
        let member = Member::admit(app, caller).await?;
        let (store, user) = (&member.store, &member.user);
        if app.registry.first_admin_claim_due(store.tenant(), user) {
            let now = crate::notes::now_timestamp();
            if store.claim_first_admin(&user.identity_id, &now).await? {
                tracing::info!(
                    tenant = %store.tenant().id(),
                    identity = %user.identity_id,
                    "first ADMIN of the tenant: onboard's pending admin signed in"
                );
            }
            app.registry.first_admin_claim_settled(store.tenant(), user);
        }
        Ok(Claimant(member))
    }

    fn tenant(&self) -> Option<&ActiveTenant> {
        self.0.tenant()
    }
}

/// A signed-in user of an active tenant, without a handle to the tenant's data: for fields that
/// only decide who the caller is (the subscriptions), so their functions read the registry and
/// nothing else, in either credentials mode.
pub struct TenantUser {
    pub user: User,
    pub tenant: ActiveTenant,
}

impl Access for TenantUser {
    async fn admit(app: &App, caller: Caller) -> Result<Self, AppError> {
        match caller {
            guest @ Caller::Guest(_) => Err(Member::refuse_guest(&guest)),
            Caller::User(user) => {
                let tenant = app.registry.tenant_of(&user).await?;
                Ok(TenantUser { user, tenant })
            }
        }
    }

    fn tenant(&self) -> Option<&ActiveTenant> {
        Some(&self.tenant)
    }
}
