//! The subscriptions: what `onNoteChanged` and `onPublicNoteChanged` grant a subscriber.

use serde::Deserialize;

use crate::error::AppError;
use crate::event::Field;
use crate::identity::Caller;
use crate::lambda::{App, Resolver, TenantUser};
use crate::realtime::SubscriptionGrant;
use crate::tenancy::TenantId;

use super::NoArgs;

/// `Subscription.onNoteChanged`: the filters of a signed-in user's subscription to the notes it
/// may read (`shared::realtime`). Decided here from the caller's identity alone: the field takes
/// no arguments, and `resolvers/subscribe.js` never reads any.
pub struct OnNoteChanged;

impl Resolver for OnNoteChanged {
    const FIELD: Field = Field::new("Subscription", "onNoteChanged");
    type Access = TenantUser;
    type Args = NoArgs;
    type Output = SubscriptionGrant;

    async fn resolve(
        &self,
        _: &App,
        who: TenantUser,
        _: NoArgs,
    ) -> Result<SubscriptionGrant, AppError> {
        Ok(SubscriptionGrant::member(
            who.tenant.id(),
            &who.user.identity_id,
            who.user.user_sub.as_deref(),
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantArgs {
    pub tenant_id: String,
}

/// `Subscription.onPublicNoteChanged(tenantId)`: the public channel of an active tenant, for
/// anyone. An unknown, malformed or suspended tenant is `NotFound`, as for `publicNotes`.
pub struct OnPublicNoteChanged;

impl Resolver for OnPublicNoteChanged {
    const FIELD: Field = Field::new("Subscription", "onPublicNoteChanged");
    type Access = Caller;
    type Args = TenantArgs;
    type Output = SubscriptionGrant;

    async fn resolve(
        &self,
        app: &App,
        _: Caller,
        args: TenantArgs,
    ) -> Result<SubscriptionGrant, AppError> {
        let tenant_id = TenantId::parse(&args.tenant_id).map_err(|_| {
            AppError::NotFound("No tenant with that id serves public notes.".into())
        })?;
        let tenant = app.registry.active_by_id(&tenant_id).await?;
        Ok(SubscriptionGrant::public(tenant.id()))
    }
}
