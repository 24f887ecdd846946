//! `Query.me`: who the API thinks the caller is.

use serde::Serialize;

use crate::error::AppError;
use crate::event::Field;
use crate::identity::Caller;
use crate::lambda::{App, Resolver};

use super::NoArgs;

/// GraphQL `Caller`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerView {
    pub identity_id: String,
    pub authenticated: bool,
    pub tenant_id: Option<String>,
    pub provider: Option<String>,
    pub user_sub: Option<String>,
}

/// `Query.me`: who the API thinks the caller is. Open to guests.
pub struct Me;

impl Resolver for Me {
    const FIELD: Field = Field::new("Query", "me");
    type Access = Caller;
    type Args = NoArgs;
    type Output = CallerView;

    async fn resolve(&self, app: &App, who: Caller, _: NoArgs) -> Result<CallerView, AppError> {
        Ok(match who {
            Caller::Guest(g) => CallerView {
                identity_id: g.identity_id.as_str().to_owned(),
                authenticated: false,
                tenant_id: None,
                provider: None,
                user_sub: None,
            },
            Caller::User(u) => {
                // A user whose provider is not a tenant, or whose tenant is suspended, is told so.
                let tenant = app.registry.tenant_of(&u).await?;
                CallerView {
                    identity_id: u.identity_id.as_str().to_owned(),
                    authenticated: true,
                    tenant_id: Some(tenant.id().to_string()),
                    provider: Some(u.provider.as_str().to_owned()),
                    user_sub: u.user_sub,
                }
            }
        })
    }
}
