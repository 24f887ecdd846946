//! The table definition, shared by `tenantctl create-table`, the tests and the template check.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde::Serialize;

use super::Admin;
use crate::error::AppError;
use crate::store::keys::{GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_SK, PK, SK, TTL_ATTRIBUTE};
use crate::store::sdk_err;

/// (index name, key schema as (name, HASH|RANGE), projection type).
pub type IndexSpec = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

/// The table's shape in plain data, so a test can compare it with `template.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableSpec {
    /// (name, type) of every key attribute.
    pub attributes: Vec<(&'static str, &'static str)>,
    /// (name, HASH|RANGE).
    pub key_schema: Vec<(&'static str, &'static str)>,
    /// (index name, key schema, projection type).
    pub global_secondary_indexes: Vec<IndexSpec>,
    pub billing_mode: &'static str,
    pub ttl_attribute: &'static str,
    /// The table's stream: every write with its old and new image, for the note publisher
    /// (real-time events; docs/design/real-time.md).
    pub stream_view_type: &'static str,
}

pub fn table_spec() -> TableSpec {
    TableSpec {
        attributes: vec![
            (PK, "S"),
            (SK, "S"),
            (GSI1_PK, "S"),
            (GSI1_SK, "S"),
            (GSI2_SK, "S"),
        ],
        key_schema: vec![(PK, "HASH"), (SK, "RANGE")],
        global_secondary_indexes: vec![
            (GSI1, vec![(GSI1_PK, "HASH"), (GSI1_SK, "RANGE")], "ALL"),
            // The listing index. Hash key `pk`: a tenant's entries stay under its own partition
            // key, so the tenant-scoped role's `dynamodb:LeadingKeys` condition covers it as is.
            // ALL: a page is read from the index alone, with no second read per note.
            (GSI2, vec![(PK, "HASH"), (GSI2_SK, "RANGE")], "ALL"),
        ],
        billing_mode: "PAY_PER_REQUEST",
        ttl_attribute: TTL_ATTRIBUTE,
        stream_view_type: "NEW_AND_OLD_IMAGES",
    }
}

fn stream_spec(view: &str) -> Result<StreamSpecification, AppError> {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::from(view))
        .build()
        .map_err(build_err)
}

fn build_err(e: impl std::fmt::Display) -> AppError {
    AppError::internal("table definition", e)
}

fn attribute_definition(name: &str, ty: &str) -> Result<AttributeDefinition, AppError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::from(ty))
        .build()
        .map_err(build_err)
}

fn projection_of(projection: &str) -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(projection))
        .build()
}

fn key_schema(keys: &[(&str, &str)]) -> Result<Vec<KeySchemaElement>, AppError> {
    keys.iter()
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(*name)
                .key_type(KeyType::from(*kind))
                .build()
                .map_err(build_err)
        })
        .collect()
}

impl Admin {
    /// Creates the table as [`table_spec`] describes it and waits until it is active.
    /// An existing table of that name is left alone.
    pub async fn create_table(&self) -> Result<bool, AppError> {
        let spec = table_spec();
        let mut req = self
            .db
            .client
            .create_table()
            .table_name(&self.db.table)
            .billing_mode(BillingMode::from(spec.billing_mode))
            .set_key_schema(Some(key_schema(&spec.key_schema)?))
            .stream_specification(stream_spec(spec.stream_view_type)?);
        for (name, ty) in &spec.attributes {
            req = req.attribute_definitions(attribute_definition(name, ty)?);
        }
        for (name, keys, projection) in &spec.global_secondary_indexes {
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(*name)
                    .set_key_schema(Some(key_schema(keys)?))
                    .projection(projection_of(projection))
                    .build()
                    .map_err(build_err)?,
            );
        }
        match req.send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                // A table made before the stream existed gets it: without it, no real-time
                // event is published.
                self.ensure_stream(spec.stream_view_type).await?;
                // Likewise the indexes (the listing index is newer than the table format).
                self.ensure_indexes(&spec).await?;
                return Ok(false);
            }
            Err(e) => return Err(sdk_err("CreateTable", e)),
        }
        self.wait_active().await?;
        self.db
            .client
            .update_time_to_live()
            .table_name(&self.db.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(spec.ttl_attribute)
                    .build()
                    .map_err(build_err)?,
            )
            .send()
            .await
            .map_err(|e| sdk_err("UpdateTimeToLive", e))?;
        Ok(true)
    }

    /// Turns the table's stream on with `view` if it is off; a stream with another view is an
    /// operator's decision to change, not ours.
    async fn ensure_stream(&self, view: &str) -> Result<(), AppError> {
        let out = self
            .db
            .client
            .describe_table()
            .table_name(&self.db.table)
            .send()
            .await
            .map_err(|e| sdk_err("DescribeTable", e))?;
        let enabled = out
            .table()
            .and_then(|t| t.stream_specification())
            .is_some_and(|s| s.stream_enabled());
        if enabled {
            return Ok(());
        }
        self.db
            .client
            .update_table()
            .table_name(&self.db.table)
            .stream_specification(stream_spec(view)?)
            .send()
            .await
            .map_err(|e| sdk_err("UpdateTable", e))?;
        self.wait_active().await
    }

    /// Creates the indexes of `spec` the table lacks (a table made before them), one UpdateTable
    /// each (DynamoDB creates one index at a time), and waits until each is ACTIVE. DynamoDB
    /// builds a new index from the items that already carry its key attributes: run `tenantctl
    /// backfill-indexes` for the rest. A table deployed by CloudFormation gets its indexes from
    /// the template instead (docs/scale.md); this is for tables `tenantctl` made.
    pub async fn ensure_indexes(&self, spec: &TableSpec) -> Result<Vec<&'static str>, AppError> {
        let present: Vec<String> = self
            .describe()
            .await?
            .global_secondary_indexes()
            .iter()
            .filter_map(|g| g.index_name().map(str::to_owned))
            .collect();
        let mut added = Vec::new();
        for (name, keys, projection) in &spec.global_secondary_indexes {
            if present.iter().any(|p| p == name) {
                continue;
            }
            let mut req = self.db.client.update_table().table_name(&self.db.table);
            for (attribute, ty) in spec
                .attributes
                .iter()
                .filter(|(a, _)| keys.iter().any(|(k, _)| k == a))
            {
                req = req.attribute_definitions(attribute_definition(attribute, ty)?);
            }
            let create = CreateGlobalSecondaryIndexAction::builder()
                .index_name(*name)
                .set_key_schema(Some(key_schema(keys)?))
                .projection(projection_of(projection))
                .build()
                .map_err(build_err)?;
            let sent = req
                .global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder().create(create).build(),
                )
                .send()
                .await;
            if let Err(e) = sent {
                // A timed-out request may still have started the index (a retry is then
                // refused as a duplicate): what counts is whether the index is there now.
                let started = self
                    .describe()
                    .await?
                    .global_secondary_indexes()
                    .iter()
                    .any(|g| g.index_name() == Some(*name));
                if !started {
                    return Err(sdk_err("UpdateTable", e));
                }
            }
            self.wait_index_active(name).await?;
            added.push(*name);
        }
        Ok(added)
    }

    async fn describe(&self) -> Result<aws_sdk_dynamodb::types::TableDescription, AppError> {
        self.db
            .client
            .describe_table()
            .table_name(&self.db.table)
            .send()
            .await
            .map_err(|e| sdk_err("DescribeTable", e))?
            .table
            .ok_or_else(|| AppError::Internal("DescribeTable returned no table".into()))
    }

    async fn wait_index_active(&self, index: &str) -> Result<(), AppError> {
        // Building an index over a large table takes a while on AWS: up to an hour here, with a
        // progress line every 10 s (tenantctl shows them on stderr).
        let started = std::time::Instant::now();
        for poll in 0..7200u32 {
            let table = self.describe().await?;
            let gsi = table
                .global_secondary_indexes()
                .iter()
                .find(|g| g.index_name() == Some(index));
            let active = gsi
                .and_then(|g| g.index_status())
                .is_some_and(|s| s.as_str() == "ACTIVE");
            if active && table.table_status().is_some_and(|s| s.as_str() == "ACTIVE") {
                return Ok(());
            }
            if poll % 20 == 19 {
                tracing::info!(
                    "index {index}: {} after {} s{} (DynamoDB builds it from the table's items)",
                    gsi.and_then(|g| g.index_status())
                        .map_or("not listed yet", |s| s.as_str()),
                    started.elapsed().as_secs(),
                    if gsi.and_then(|g| g.backfilling()) == Some(true) {
                        ", backfilling"
                    } else {
                        ""
                    },
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        Err(AppError::Internal(format!(
            "index {index} did not become ACTIVE within an hour"
        )))
    }

    async fn wait_active(&self) -> Result<(), AppError> {
        for _ in 0..120 {
            if self
                .describe()
                .await?
                .table_status()
                .is_some_and(|s| s.as_str() == "ACTIVE")
            {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        Err(AppError::Internal(
            "table did not become ACTIVE within 60 s".into(),
        ))
    }
}
