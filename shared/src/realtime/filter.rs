//! AppSync's enhanced subscription filters, written as the input of
//! `util.transform.toSubscriptionFilter` (field keys ANDed, `and` / `or` nesting, several
//! conditions on one field ORed), evaluated the way AppSync evaluates the filter it builds from
//! them. Used to prove the filters of [`super`] against the read rules, and to hold them to
//! AppSync's limits; `local/subscription-filter.mjs` applies the same semantics at run time.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// AppSync's limits on one subscription's filter: filter groups, filters a group, distinct
/// fields (sources in docs/design/real-time.md).
pub const MAX_GROUPS: usize = 10;
pub const MAX_FILTERS_PER_GROUP: usize = 5;
pub const MAX_FIELDS: usize = 5;
pub const MAX_IN_VALUES: usize = 5;

/// One filter of a group: (field path, operator, value).
pub type Rule = (String, String, Value);

/// Does `event` pass `filter`?
pub fn matches(filter: &Value, event: &Value) -> bool {
    groups(filter)
        .iter()
        .any(|g| g.iter().all(|r| holds(r, event)))
}

/// The filter groups AppSync builds from `filter` (disjunctive normal form, AppSync's order).
pub fn groups(filter: &Value) -> Vec<Vec<Rule>> {
    expand(filter)
        .into_iter()
        .filter(|g| !g.is_empty())
        .collect()
}

fn cross(left: Vec<Vec<Rule>>, right: &[Vec<Rule>]) -> Vec<Vec<Rule>> {
    let mut out = Vec::with_capacity(left.len() * right.len());
    for a in &left {
        for b in right {
            out.push(a.iter().chain(b).cloned().collect());
        }
    }
    out
}

fn expand(filter: &Value) -> Vec<Vec<Rule>> {
    let empty = Map::new();
    let map = filter.as_object().unwrap_or(&empty);
    let mut out: Vec<Vec<Rule>> = vec![Vec::new()];
    for (key, value) in map {
        let parts: Vec<Vec<Vec<Rule>>> = match key.as_str() {
            "and" | "or" => value
                .as_array()
                .map(|a| a.iter().map(expand).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let alternatives: Vec<Vec<Rule>> = match key.as_str() {
            "and" => parts
                .into_iter()
                .fold(vec![Vec::new()], |acc, p| cross(acc, &p)),
            "or" => parts.into_iter().flatten().collect(),
            field => value
                .as_object()
                .map(|conds| {
                    conds
                        .iter()
                        .map(|(op, v)| vec![(field.to_owned(), op.clone(), v.clone())])
                        .collect()
                })
                .unwrap_or_default(),
        };
        if alternatives.is_empty() {
            continue;
        }
        out = cross(out, &alternatives);
    }
    out
}

fn at<'a>(event: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(event, |v, p| v.get(p).unwrap_or(&Value::Null))
}

fn holds((field, op, want): &Rule, event: &Value) -> bool {
    let got = at(event, field);
    let list = || want.as_array().cloned().unwrap_or_default();
    match op.as_str() {
        "eq" => got == want,
        "ne" => got != want,
        "in" => list().contains(got),
        "notIn" => !list().contains(got),
        "beginsWith" => {
            matches!((got, want), (Value::String(g), Value::String(w)) if g.starts_with(w.as_str()))
        }
        // The filters of this API use only the operators above; anything else matches nothing.
        _ => false,
    }
}

/// Whether AppSync would accept `filter` for one subscription.
pub fn check_limits(filter: &Value) -> Result<(), String> {
    let gs = groups(filter);
    if gs.is_empty() || gs.len() > MAX_GROUPS {
        return Err(format!("{} filter groups (1-{MAX_GROUPS})", gs.len()));
    }
    let mut fields = BTreeSet::new();
    for g in &gs {
        if g.len() > MAX_FILTERS_PER_GROUP {
            return Err(format!(
                "{} filters in a group (max {MAX_FILTERS_PER_GROUP})",
                g.len()
            ));
        }
        for (field, op, value) in g {
            fields.insert(field.clone());
            if (op == "in" || op == "notIn")
                && value.as_array().is_none_or(|a| a.len() > MAX_IN_VALUES)
            {
                return Err(format!("{field} {op} takes at most {MAX_IN_VALUES} values"));
            }
        }
    }
    if fields.len() > MAX_FIELDS {
        return Err(format!(
            "{} distinct fields (max {MAX_FIELDS})",
            fields.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_documented_conversion() {
        // util.transform reference: keys ANDed, nested and/or, two conditions on one field ORed.
        let f = json!({
            "percentageUp": {"lte": 50, "gte": 20},
            "and": [{"title": {"ne": "Book1"}}, {"downvotes": {"gt": 2000}}],
            "or": [{"author": {"eq": "Admin"}}, {"isPublished": {"eq": false}}]
        });
        let gs = groups(&f);
        assert_eq!(gs.len(), 4);
        assert!(gs.iter().all(|g| g.len() == 4));
    }

    #[test]
    fn or_of_groups_and_within() {
        let f = json!({"or": [{"a": {"eq": 1}, "b": {"eq": 2}}, {"c": {"in": [3, 4]}}]});
        assert!(matches(&f, &json!({"a": 1, "b": 2})));
        assert!(!matches(&f, &json!({"a": 1, "b": 3})));
        assert!(matches(&f, &json!({"c": 4})));
        assert!(!matches(&f, &json!({"c": 5})));
        assert!(matches(&json!({"x": {"ne": 1}}), &json!({})));
        assert!(matches(
            &json!({"x.y": {"beginsWith": "ab"}}),
            &json!({"x": {"y": "abc"}})
        ));
    }

    #[test]
    fn limits() {
        assert!(check_limits(&json!({"a": {"eq": 1}})).is_ok());
        let six = json!({"a": {"eq": 1}, "b": {"eq": 1}, "c": {"eq": 1}, "d": {"eq": 1}, "e": {"eq": 1}, "f": {"eq": 1}});
        assert!(check_limits(&six).is_err());
        let fields = json!({"or": [{"a": {"eq": 1}, "b": {"eq": 1}, "c": {"eq": 1}}, {"d": {"eq": 1}, "e": {"eq": 1}, "f": {"eq": 1}}]});
        assert!(
            check_limits(&fields)
                .unwrap_err()
                .contains("distinct fields")
        );
        let many: Vec<Value> = (0..11).map(|i| json!({"a": {"eq": i}})).collect();
        assert!(check_limits(&json!({"or": many})).is_err());
        assert!(check_limits(&json!({"a": {"in": [1, 2, 3, 4, 5, 6]}})).is_err());
        assert!(check_limits(&json!({})).is_err());
    }
}
