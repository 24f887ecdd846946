//! `Query.tenant`: the caller's tenant and its member count.

use serde::Serialize;

use crate::error::AppError;
use crate::event::Field;
use crate::lambda::{App, Member, Resolver};

use super::NoArgs;

/// GraphQL `Tenant`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub member_count: i64,
}

/// `Query.tenant`: the caller's tenant, with its exact member count.
pub struct Tenant;

impl Resolver for Tenant {
    const FIELD: Field = Field::new("Query", "tenant");
    type Access = Member;
    type Args = NoArgs;
    type Output = TenantView;

    async fn resolve(&self, _: &App, who: Member, _: NoArgs) -> Result<TenantView, AppError> {
        let member_count = who.store.member_count().await?;
        let t = who.store.tenant();
        Ok(TenantView {
            id: t.id().to_string(),
            name: t.name().to_owned(),
            member_count,
        })
    }
}
