//! The one line each invocation writes: a CloudWatch Embedded Metric Format (EMF) document, so
//! the log line that names the tenant is also the per-tenant metric — latency, outcome counts
//! and DynamoDB capacity by `tenant` and `field` — with no extra network call. CloudWatch Logs
//! extracts the metrics; Logs Insights and `tenantctl usage` read the same line.

use serde::Serialize;
use serde_json::json;

use crate::event::Field;

/// The CloudWatch namespace of the metrics.
pub const NAMESPACE: &str = "NotesApi";

/// What one invocation did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InvocationRecord<'a> {
    pub request_id: &'a str,
    pub field: String,
    /// The caller's tenant, `-` when there is none (guests, refused callers).
    pub tenant: &'a str,
    pub caller: &'a str,
    /// `ok` or the error type.
    pub outcome: &'a str,
    pub latency_ms: f64,
    /// DynamoDB capacity units consumed (reads and writes), as DynamoDB reported them.
    pub consumed_capacity: f64,
}

impl<'a> InvocationRecord<'a> {
    pub fn new(field: Field, request_id: &'a str) -> Self {
        InvocationRecord {
            request_id,
            field: field.to_string(),
            tenant: "-",
            caller: "-",
            outcome: "ok",
            latency_ms: 0.0,
            consumed_capacity: 0.0,
        }
    }

    /// The EMF document: the record's members at the root (dimensions, metrics and plain
    /// properties), and `_aws` telling CloudWatch which members are metrics.
    pub fn emf(&self, timestamp_ms: u64) -> serde_json::Value {
        serde_json::to_value(self.document(timestamp_ms)).unwrap_or_default()
    }

    /// [`Self::emf`] as the one line it is written as: serialized straight from the record,
    /// with the directives (the same on every line) written once per process — no document
    /// tree is built per invocation.
    pub fn emf_line(&self, timestamp_ms: u64) -> String {
        // Borrowed strings and finite-or-not numbers (a NaN becomes null) cannot fail to
        // serialize; an empty line would only lose this invocation's metrics.
        serde_json::to_string(&self.document(timestamp_ms)).unwrap_or_default()
    }

    fn document(&self, timestamp_ms: u64) -> Emf<'_> {
        Emf {
            aws: Aws {
                timestamp: timestamp_ms,
                directives: &DIRECTIVES,
            },
            message: "invocation",
            request_id: self.request_id,
            tenant: self.tenant,
            field: &self.field,
            caller: self.caller,
            outcome: self.outcome,
            latency: self.latency_ms,
            consumed_capacity: self.consumed_capacity,
            invocations: 1,
            errors: u8::from(self.outcome != "ok"),
        }
    }
}

/// Which members of the line are metrics, by which dimensions: the same on every line.
static DIRECTIVES: std::sync::LazyLock<Box<serde_json::value::RawValue>> =
    std::sync::LazyLock::new(|| {
        let directives = json!([
            {
                "Namespace": NAMESPACE,
                "Dimensions": [["tenant", "field"]],
                "Metrics": [
                    {"Name": "Latency", "Unit": "Milliseconds"},
                    {"Name": "ConsumedCapacity", "Unit": "Count"},
                    {"Name": "Invocations", "Unit": "Count"},
                    {"Name": "Errors", "Unit": "Count"}
                ]
            },
            {
                // Outcome counts: how many of each error type, per tenant and field.
                "Namespace": NAMESPACE,
                "Dimensions": [["tenant", "field", "outcome"]],
                "Metrics": [{"Name": "Invocations", "Unit": "Count"}]
            }
        ]);
        serde_json::value::to_raw_value(&directives).unwrap_or_default()
    });

/// The EMF document of one invocation, as written.
#[derive(Serialize)]
struct Emf<'a> {
    #[serde(rename = "_aws")]
    aws: Aws,
    message: &'static str,
    request_id: &'a str,
    tenant: &'a str,
    field: &'a str,
    caller: &'a str,
    outcome: &'a str,
    #[serde(rename = "Latency")]
    latency: f64,
    #[serde(rename = "ConsumedCapacity")]
    consumed_capacity: f64,
    #[serde(rename = "Invocations")]
    invocations: u8,
    #[serde(rename = "Errors")]
    errors: u8,
}

#[derive(Serialize)]
struct Aws {
    #[serde(rename = "Timestamp")]
    timestamp: u64,
    #[serde(rename = "CloudWatchMetrics")]
    directives: &'static serde_json::value::RawValue,
}

/// Milliseconds since the epoch, for `_aws.Timestamp`.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Where the EMF lines go.
#[derive(Debug, Clone, Default)]
pub enum MetricsSink {
    /// stdout, which Lambda sends to CloudWatch Logs (and `cargo lambda watch` to its log).
    #[default]
    Stdout,
    /// Kept in memory, for tests that read the lines back.
    Memory(std::sync::Arc<std::sync::Mutex<Vec<String>>>),
}

impl MetricsSink {
    /// Writes the record's EMF document as one line. A failed write is ignored: losing a log
    /// line must never fail the invocation.
    pub fn emit(&self, record: &InvocationRecord<'_>) {
        let mut line = record.emf_line(now_ms());
        match self {
            MetricsSink::Stdout => {
                use std::io::Write;
                // One write of the whole line: stdout is line-buffered, so the newline flushes.
                line.push('\n');
                let _ = std::io::stdout().lock().write_all(line.as_bytes());
            }
            MetricsSink::Memory(lines) => {
                lines.lock().unwrap_or_else(|p| p.into_inner()).push(line)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_named_in_a_directive_is_a_number_at_the_root() {
        let mut r = InvocationRecord::new(Field::new("Query", "note"), "req-1");
        r.tenant = "acme";
        r.outcome = "NotFound";
        let doc = r.emf(1_700_000_000_000);
        for directive in doc["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            for m in directive["Metrics"].as_array().unwrap() {
                let name = m["Name"].as_str().unwrap();
                assert!(doc[name].is_number(), "{name}");
            }
            for set in directive["Dimensions"].as_array().unwrap() {
                for d in set.as_array().unwrap() {
                    assert!(doc[d.as_str().unwrap()].is_string());
                }
            }
        }
        assert_eq!(doc["Errors"], 1);
        let line = r.emf_line(1_700_000_000_000);
        assert!(!line.contains('\n'));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&line).unwrap(),
            doc
        );
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(
            (doc["tenant"].as_str(), doc["field"].as_str()),
            (Some("acme"), Some("Query.note"))
        );
    }
}

/// One tenant's totals over a set of EMF lines (`tenantctl usage`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantUsage {
    pub invocations: u64,
    pub errors: u64,
    pub consumed_capacity: f64,
    pub latency_ms_total: f64,
}

/// Sums the EMF lines among `lines` (anything else — other log lines, text — is skipped) whose
/// timestamp is at or after `since_ms`, per tenant.
pub fn usage_by_tenant<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    since_ms: u64,
) -> std::collections::BTreeMap<String, TenantUsage> {
    let mut out = std::collections::BTreeMap::<String, TenantUsage>::new();
    for line in lines {
        // A log line may carry a prefix (a local runner's); the document is the JSON object.
        let Some(start) = line.find('{') else {
            continue;
        };
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(&line[start..]) else {
            continue;
        };
        let Some(ts) = doc["_aws"]["Timestamp"].as_u64() else {
            continue;
        };
        if ts < since_ms || doc["message"] != "invocation" {
            continue;
        }
        let tenant = doc["tenant"].as_str().unwrap_or("-").to_owned();
        let u = out.entry(tenant).or_default();
        u.invocations += doc["Invocations"].as_u64().unwrap_or(1);
        u.errors += doc["Errors"].as_u64().unwrap_or(0);
        u.consumed_capacity += doc["ConsumedCapacity"].as_f64().unwrap_or(0.0);
        u.latency_ms_total += doc["Latency"].as_f64().unwrap_or(0.0);
    }
    out
}

#[cfg(test)]
mod usage_tests {
    use super::*;

    #[test]
    fn usage_sums_per_tenant_after_since_and_skips_other_lines() {
        let line = |tenant: &'static str, outcome: &'static str, cap: f64, ts: u64| {
            let mut r = InvocationRecord::new(Field::new("Query", "notes"), "r");
            r.tenant = tenant;
            r.outcome = outcome;
            r.consumed_capacity = cap;
            r.latency_ms = 2.0;
            r.emf(ts).to_string()
        };
        let lines = [
            line("acme", "ok", 1.5, 100),
            line("acme", "NotFound", 0.5, 200),
            "not json at all".to_owned(),
            format!("[get-note] {}", line("globex", "ok", 4.0, 300)),
            line("acme", "ok", 9.0, 50),
            r#"{"level":"INFO","message":"something else"}"#.to_owned(),
        ];
        let u = usage_by_tenant(lines.iter().map(String::as_str), 100);
        assert_eq!(u.len(), 2);
        assert_eq!(
            u["acme"],
            TenantUsage {
                invocations: 2,
                errors: 1,
                consumed_capacity: 2.0,
                latency_ms_total: 4.0
            }
        );
        assert_eq!(u["globex"].consumed_capacity, 4.0);
    }
}
