//! The notes domain: types parsed from client input, and the rules of who may read and write.
//! Plain functions over plain types: no DynamoDB here.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::AppError;
use crate::identity::IdentityId;
use crate::profiles::Admin;
use crate::tenancy::TenantId;
use crate::text::shorten;
use crate::validated::validated_string;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 10_000;
const MAX_ID_LEN: usize = 64;

/// Checks a client-supplied id: 1–64 characters of `A-Z a-z 0-9 _ -`. Nothing else can become
/// part of a key, so an id can never reach into another partition or item type.
fn key_safe(raw: &str, max: usize) -> bool {
    !raw.is_empty()
        && raw.len() <= max
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

validated_string! {
    /// A note id. New ones are UUIDv7 (time-ordered, so listing by key is listing by age).
    pub struct NoteId(String) = |raw: String| NoteId::parse(&raw);
}

impl NoteId {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if key_safe(raw, MAX_ID_LEN) {
            Ok(NoteId(raw.to_owned()))
        } else {
            Err(AppError::validation(format!(
                "'{}' is not a note id: ids are 1-{MAX_ID_LEN} characters of A-Z, a-z, 0-9, '_' and '-'.",
                shorten(raw, 40)
            )))
        }
    }

    pub fn generate() -> Self {
        NoteId(uuid::Uuid::now_v7().to_string())
    }
}

/// An idempotency token of `createNote`, scoped to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientToken(String);

impl ClientToken {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if key_safe(raw, MAX_ID_LEN) {
            Ok(ClientToken(raw.to_owned()))
        } else {
            Err(AppError::validation(format!(
                "clientToken must be 1-{MAX_ID_LEN} characters of A-Z, a-z, 0-9, '_' and '-'."
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_string! {
    /// A note's title: 1–200 characters.
    pub struct Title(String) = Title::parse;
}

impl Title {
    pub fn parse(raw: String) -> Result<Self, AppError> {
        let n = raw.chars().count();
        if (1..=MAX_TITLE_CHARS).contains(&n) {
            Ok(Title(raw))
        } else {
            Err(AppError::validation(format!(
                "title must be 1-{MAX_TITLE_CHARS} characters (got {n})."
            )))
        }
    }
}

validated_string! {
    /// A note's body: at most 10,000 characters.
    pub struct Body(String) = Body::parse;
}

impl Body {
    pub fn parse(raw: String) -> Result<Self, AppError> {
        let n = raw.chars().count();
        if n <= MAX_BODY_CHARS {
            Ok(Body(raw))
        } else {
            Err(AppError::validation(format!(
                "body must be at most {MAX_BODY_CHARS} characters (got {n})."
            )))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Visibility {
    /// Only the owner reads it.
    Private,
    /// Every user of the tenant reads it.
    Tenant,
    /// Every user of the tenant, and anyone through `publicNotes`.
    Public,
}

/// A note as the API returns it (GraphQL `Note`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: NoteId,
    pub tenant_id: TenantId,
    pub owner_id: IdentityId,
    pub title: Title,
    pub body: Option<Body>,
    pub visibility: Visibility,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// `CreateNoteInput`, as it arrives.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateNoteInput {
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub visibility: Option<Visibility>,
    #[serde(default)]
    pub client_token: Option<String>,
}

/// A validated new note.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub title: Title,
    pub body: Option<Body>,
    pub visibility: Visibility,
    pub client_token: Option<ClientToken>,
}

impl TryFrom<CreateNoteInput> for NewNote {
    type Error = AppError;
    fn try_from(i: CreateNoteInput) -> Result<Self, AppError> {
        Ok(NewNote {
            title: Title::parse(i.title)?,
            body: i.body.map(Body::parse).transpose()?,
            // PRIVATE unless asked otherwise: sharing is opt-in.
            visibility: i.visibility.unwrap_or(Visibility::Private),
            client_token: i
                .client_token
                .as_deref()
                .map(ClientToken::parse)
                .transpose()?,
        })
    }
}

impl NewNote {
    /// The note this input creates for `owner` in `tenant_id` at `now`.
    pub fn into_note(self, tenant_id: &TenantId, owner: &IdentityId, now: &str) -> Note {
        Note {
            id: NoteId::generate(),
            tenant_id: tenant_id.clone(),
            owner_id: owner.clone(),
            title: self.title,
            body: self.body,
            visibility: self.visibility,
            version: 1,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
        }
    }
}

/// Absent stays `None`, an explicit `null` becomes `Some(None)`.
fn explicit_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `UpdateNoteInput`, as it arrives: an absent field is left unchanged.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateNoteInput {
    pub id: String,
    #[serde(default, deserialize_with = "explicit_null")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "explicit_null")]
    pub body: Option<Option<String>>,
    #[serde(default)]
    pub visibility: Option<Visibility>,
    pub expected_version: i64,
}

/// A validated change to one note.
#[derive(Debug, Clone)]
pub struct NoteUpdate {
    pub id: NoteId,
    pub title: Option<Title>,
    /// `Some(None)` removes the body.
    pub body: Option<Option<Body>>,
    pub visibility: Option<Visibility>,
    pub expected_version: i64,
}

impl TryFrom<UpdateNoteInput> for NoteUpdate {
    type Error = AppError;
    fn try_from(i: UpdateNoteInput) -> Result<Self, AppError> {
        let title = match i.title {
            None => None,
            Some(None) => return Err(AppError::validation("title cannot be null.")),
            Some(Some(t)) => Some(Title::parse(t)?),
        };
        let body = match i.body {
            None => None,
            Some(None) => Some(None),
            Some(Some(b)) => Some(Some(Body::parse(b)?)),
        };
        Ok(NoteUpdate {
            id: NoteId::parse(&i.id)?,
            title,
            body,
            visibility: i.visibility,
            expected_version: parse_version(i.expected_version)?,
        })
    }
}

pub fn parse_version(v: i64) -> Result<i64, AppError> {
    if v >= 1 {
        Ok(v)
    } else {
        Err(AppError::validation(
            "expectedVersion must be a positive version number.",
        ))
    }
}

/// May `viewer` (a user of the note's tenant) read `note`?
pub fn can_read(note: &Note, viewer: &IdentityId) -> bool {
    match note.visibility {
        Visibility::Private => note.owner_id == *viewer,
        Visibility::Tenant | Visibility::Public => true,
    }
}

/// Why a conditional write on a note was refused, given the note as it is now (`None`: there
/// is no such note in the caller's tenant). Never reveals a note the viewer may not read.
pub fn write_rejection(
    current: Option<&Note>,
    viewer: &IdentityId,
    expected_version: Option<i64>,
) -> AppError {
    match current {
        Some(n) if can_read(n, viewer) && n.owner_id != *viewer => {
            AppError::Forbidden("Only the owner of a note may change or delete it.".into())
        }
        Some(n) if can_read(n, viewer) => match expected_version {
            Some(v) if v != n.version => AppError::Conflict(format!(
                "expectedVersion {v} is stale: the note is at version {}; read it again and retry.",
                n.version
            )),
            // The condition failed on something that was true a moment ago: a concurrent write.
            _ => {
                AppError::Conflict("The note changed concurrently; read it again and retry.".into())
            }
        },
        _ => not_found(),
    }
}

/// Why an admin's conditional write was refused: the note is gone, or it moved on.
pub fn admin_write_rejection(
    current: Option<&Note>,
    admin: &Admin,
    expected_version: Option<i64>,
) -> AppError {
    // A PRIVATE note of someone else is answered exactly as a missing one: not even a stale
    // version may confirm that it exists.
    let current = current.filter(|n| can_read(n, admin.identity_id()));
    match (current, expected_version) {
        (None, _) => not_found(),
        (Some(n), Some(v)) if v != n.version => AppError::Conflict(format!(
            "expectedVersion {v} is stale: the note is at version {}; read it again and retry.",
            n.version
        )),
        (Some(_), _) => {
            AppError::Conflict("The note changed concurrently; read it again and retry.".into())
        }
    }
}

pub fn not_found() -> AppError {
    AppError::NotFound("No note with that id exists for you.".into())
}

/// Now, as an AWSDateTime (RFC 3339, UTC, milliseconds).
pub fn now_timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let ms = now.millisecond();
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    match now.format(&fmt) {
        Ok(s) => format!("{s}.{ms:03}Z"),
        // Formatting a valid UTC time with a fixed description cannot fail; keep a fallback
        // anyway rather than a panic.
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn me() -> IdentityId {
        IdentityId::parse("eu-central-1:me").unwrap()
    }

    fn note(owner: &str, visibility: Visibility, version: i64) -> Note {
        Note {
            id: NoteId::generate(),
            tenant_id: TenantId::parse("acme").unwrap(),
            owner_id: IdentityId::parse(owner).unwrap(),
            title: Title::parse("t".into()).unwrap(),
            body: None,
            visibility,
            version,
            created_at: now_timestamp(),
            updated_at: now_timestamp(),
        }
    }

    #[test]
    fn ids_cannot_carry_key_syntax() {
        assert!(NoteId::parse("0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b").is_ok());
        for bad in [
            "",
            "a#b",
            "TENANT#globex",
            "../x",
            "a/b",
            "a\0b",
            "é",
            "ａ",
            &"x".repeat(65),
            &"x".repeat(10_240),
        ] {
            assert!(
                matches!(NoteId::parse(bad), Err(AppError::Validation(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn titles_and_bodies_are_bounded_in_characters() {
        assert!(Title::parse("a".into()).is_ok());
        assert!(Title::parse("é".repeat(200)).is_ok());
        assert!(Title::parse(String::new()).is_err());
        assert!(Title::parse("a".repeat(201)).is_err());
        assert!(Body::parse(String::new()).is_ok());
        assert!(Body::parse("ü".repeat(10_000)).is_ok());
        assert!(Body::parse("a".repeat(10_001)).is_err());
    }

    #[test]
    fn update_input_distinguishes_absent_from_null() {
        let parse = |v| NoteUpdate::try_from(serde_json::from_value::<UpdateNoteInput>(v).unwrap());
        let u = parse(json!({"id": "n1", "expectedVersion": 1})).unwrap();
        assert_eq!((u.title, u.body), (None, None));
        let u = parse(json!({"id": "n1", "body": null, "expectedVersion": 1})).unwrap();
        assert_eq!(u.body, Some(None));
        assert!(parse(json!({"id": "n1", "title": null, "expectedVersion": 1})).is_err());
        assert!(parse(json!({"id": "n1", "expectedVersion": 0})).is_err());
        assert!(parse(json!({"id": "a#b", "expectedVersion": 1})).is_err());
    }

    #[test]
    fn read_rules() {
        let other = "eu-central-1:other";
        assert!(can_read(
            &note(me().as_str(), Visibility::Private, 1),
            &me()
        ));
        assert!(!can_read(&note(other, Visibility::Private, 1), &me()));
        assert!(can_read(&note(other, Visibility::Tenant, 1), &me()));
        assert!(can_read(&note(other, Visibility::Public, 1), &me()));
    }

    #[test]
    fn write_rejections_never_reveal_hidden_notes() {
        let other = "eu-central-1:other";
        assert!(matches!(
            write_rejection(None, &me(), Some(1)),
            AppError::NotFound(_)
        ));
        let hidden = note(other, Visibility::Private, 1);
        assert!(matches!(
            write_rejection(Some(&hidden), &me(), Some(7)),
            AppError::NotFound(_)
        ));
        let shared = note(other, Visibility::Tenant, 1);
        assert!(matches!(
            write_rejection(Some(&shared), &me(), Some(1)),
            AppError::Forbidden(_)
        ));
        let mine = note(me().as_str(), Visibility::Private, 3);
        assert!(matches!(
            write_rejection(Some(&mine), &me(), Some(2)),
            AppError::Conflict(_)
        ));
    }

    /// Typed ids and texts are written as the plain strings they carry, and read back only if
    /// they parse.
    #[test]
    fn notes_serialize_as_plain_strings() {
        let n = note(me().as_str(), Visibility::Tenant, 2);
        let v = serde_json::to_value(&n).unwrap();
        assert_eq!(v["id"], n.id.as_str());
        assert_eq!(v["tenantId"], "acme");
        assert_eq!(v["ownerId"], "eu-central-1:me");
        assert_eq!(v["title"], "t");
        assert_eq!(v["visibility"], "TENANT");
        assert_eq!(serde_json::from_value::<Note>(v.clone()).unwrap(), n);
        let mut bad = v;
        bad["ownerId"] = json!("a#b");
        assert!(serde_json::from_value::<Note>(bad).is_err());
    }

    #[test]
    fn timestamps_are_aws_date_times() {
        let t = now_timestamp();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z'));
        assert!(
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).is_ok()
        );
    }
}
