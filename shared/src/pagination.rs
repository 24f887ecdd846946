//! Page sizes and opaque `nextToken`s.
//!
//! A token names only the last note id of a page (and, for `notes`, a few flags the store keeps
//! about its two index ranges), bound to the query, the tenant and (for `notes`) the caller, and
//! carries a MAC. The store rebuilds the DynamoDB start keys from the caller's own tenant (and
//! own identity) and that id, so even a token that passed every check could only move a cursor
//! inside the caller's own result set. A token minted for another query, tenant or caller, or
//! altered in any byte, is a `ValidationError`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::AppError;
use crate::notes::NoteId;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
const MAX_TOKEN_LEN: usize = 1024;

/// A page size in 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(usize);

impl Limit {
    pub fn parse(raw: Option<i64>) -> Result<Self, AppError> {
        match raw {
            None => Ok(Limit(DEFAULT_LIMIT)),
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => Ok(Limit(n as usize)),
            Some(_) => Err(AppError::validation(format!(
                "limit must be between 1 and {MAX_LIMIT}."
            ))),
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// What a token is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The GraphQL field (`notes`, `publicNotes`).
    #[serde(rename = "q")]
    pub query: String,
    #[serde(rename = "t")]
    pub tenant: String,
    /// The caller's identity id where the result set depends on the caller, else empty.
    #[serde(rename = "c")]
    pub caller: String,
}

/// Where the next page starts: after note `after` (pages are newest first). `flags` are the
/// store's own notes on how to read on (for `notes`: which index range is exhausted and which
/// led the last page); they only ever make it skip reads, never widen them, and the MAC covers
/// them like the id. Zero for a plain cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub after: NoteId,
    pub flags: u8,
}

impl Position {
    pub fn after(after: NoteId) -> Self {
        Position { after, flags: 0 }
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(flatten)]
    binding: Binding,
    #[serde(rename = "a")]
    after: NoteId,
    /// Absent when zero, so a plain cursor's token is what it always was.
    #[serde(rename = "f", default, skip_serializing_if = "is_zero")]
    flags: u8,
}

fn is_zero(f: &u8) -> bool {
    *f == 0
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> Result<HmacSha256, AppError> {
    // HMAC accepts keys of any length, so this does not fail in practice.
    HmacSha256::new_from_slice(secret).map_err(|e| AppError::internal("page token key", e))
}

/// Mints the token that continues at `at`.
pub fn seal(secret: &[u8], binding: &Binding, at: &Position) -> Result<String, AppError> {
    let payload = Payload {
        binding: binding.clone(),
        after: at.after.clone(),
        flags: at.flags,
    };
    let json = serde_json::to_vec(&payload).map_err(|e| AppError::internal("page token", e))?;
    let mut m = mac(secret)?;
    m.update(&json);
    let tag = m.finalize().into_bytes();
    Ok(format!("{}.{}", B64.encode(&json), B64.encode(tag)))
}

/// Opens a client's token; anything but an intact token minted for `expected` is refused.
pub fn open(secret: &[u8], expected: &Binding, token: &str) -> Result<Position, AppError> {
    let invalid = || {
        AppError::validation(
            "nextToken is invalid: pass back the nextToken of the same query unchanged.",
        )
    };
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(invalid());
    }
    let (body, tag) = token.split_once('.').ok_or_else(invalid)?;
    let json = B64.decode(body).map_err(|_| invalid())?;
    let tag = B64.decode(tag).map_err(|_| invalid())?;
    let mut m = mac(secret)?;
    m.update(&json);
    m.verify_slice(&tag).map_err(|_| invalid())?;
    let payload: Payload = serde_json::from_slice(&json).map_err(|_| invalid())?;
    if payload.binding != *expected {
        return Err(invalid());
    }
    Ok(Position {
        after: payload.after,
        flags: payload.flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &[u8] = b"secret";

    fn b(q: &str, t: &str, c: &str) -> Binding {
        Binding {
            query: q.into(),
            tenant: t.into(),
            caller: c.into(),
        }
    }

    #[test]
    fn limits() {
        assert_eq!(Limit::parse(None).unwrap().get(), 20);
        assert_eq!(Limit::parse(Some(100)).unwrap().get(), 100);
        for bad in [0, -1, 101, i64::MAX, i64::MIN] {
            assert!(Limit::parse(Some(bad)).is_err());
        }
    }

    #[test]
    fn a_token_opens_only_for_its_own_binding() {
        let id = NoteId::parse("n1").unwrap();
        let mine = b("notes", "acme", "eu-central-1:alice");
        let at = Position {
            after: id,
            flags: 5,
        };
        let t = seal(K, &mine, &at).unwrap();
        assert_eq!(open(K, &mine, &t).unwrap(), at);
        for other in [
            b("notes", "globex", "eu-central-1:alice"),
            b("notes", "acme", "eu-central-1:carol"),
            b("publicNotes", "acme", ""),
        ] {
            assert!(matches!(open(K, &other, &t), Err(AppError::Validation(_))));
        }
        assert!(open(b"other-key", &mine, &t).is_err());
    }

    #[test]
    fn a_plain_cursor_token_carries_no_flags() {
        let mine = b("publicNotes", "acme", "");
        let t = seal(K, &mine, &Position::after(NoteId::parse("n1").unwrap())).unwrap();
        let json = B64.decode(t.split_once('.').unwrap().0).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&json).unwrap(),
            serde_json::json!({"q": "publicNotes", "t": "acme", "c": "", "a": "n1"})
        );
    }

    #[test]
    fn tampered_or_garbage_tokens_are_validation_errors() {
        let mine = b("notes", "acme", "x");
        let t = seal(
            K,
            &mine,
            &Position {
                after: NoteId::parse("n1").unwrap(),
                flags: 1,
            },
        )
        .unwrap();
        let (body, tag) = t.split_once('.').unwrap();
        // Re-encode a payload that points elsewhere, or carries other flags, keeping the old tag.
        let forged =
            serde_json::json!({"q": "notes", "t": "acme", "c": "x", "a": "n2", "f": 1}).to_string();
        let forged = format!("{}.{tag}", B64.encode(forged));
        let reflagged =
            serde_json::json!({"q": "notes", "t": "acme", "c": "x", "a": "n1", "f": 3}).to_string();
        let reflagged = format!("{}.{tag}", B64.encode(reflagged));
        let mut flipped = body.to_owned().into_bytes();
        flipped[3] ^= 1;
        let flipped = format!("{}.{tag}", String::from_utf8(flipped).unwrap());
        for bad in [
            forged.as_str(),
            reflagged.as_str(),
            flipped.as_str(),
            "",
            ".",
            "abc",
            "%%%.%%%",
            "eyJ9.AAAA",
            &"A".repeat(5000),
            "TENANT#globex",
        ] {
            assert!(
                matches!(open(K, &mine, bad), Err(AppError::Validation(_))),
                "{bad}"
            );
        }
    }
}
