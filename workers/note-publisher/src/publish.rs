//! `publishNoteChange`, signed with the function's own role (iam-graphql).

use iam_graphql::IamGraphql;
use serde_json::json;
use shared::realtime::{NoteChange, PUBLISH_MUTATION};

pub struct Publisher {
    client: IamGraphql,
}

impl Publisher {
    /// `GRAPHQL_URL` (the API's GraphQL endpoint), with the region and credentials of the
    /// standard AWS environment (in Lambda: the function's role).
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let url = std::env::var("GRAPHQL_URL")
            .map_err(|_| "GRAPHQL_URL is not set: the note publisher needs the API's endpoint")?;
        let sdk = aws_config::load_from_env().await;
        Ok(Publisher {
            client: IamGraphql::from_sdk(&sdk, &url)?,
        })
    }

    /// Publishes `change`. An error names what failed, never the note's contents.
    pub async fn publish(&self, change: &NoteChange) -> Result<(), String> {
        let data = self
            .client
            .execute(PUBLISH_MUTATION, json!({ "change": change }))
            .await
            .map_err(|e| e.to_string())?;
        if data["publishNoteChange"].is_null() {
            return Err("AppSync published nothing (publishNoteChange: null)".into());
        }
        Ok(())
    }
}
