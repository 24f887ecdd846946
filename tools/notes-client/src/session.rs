//! A signed-in (or guest) session kept in a file, what it needs refreshed, and where it lives.
//!
//! Several sessions coexist in one directory (`<outputs dir>/notes-client/` unless told
//! otherwise): `<tenant>-<name>.json` per user, `guest.json`, and `current`, which names the
//! session of the last sign-in for commands given no `--as`/`--session`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::outputs::{Outputs, sanitize_label};

/// Refresh this long before the stated expiry: clocks differ and a request takes time.
pub const EXPIRY_SKEW_SECS: i64 = 60;

const FORMAT_VERSION: u32 = 1;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub version: u32,
    pub region: String,
    pub identity_pool_id: String,
    pub identity_id: String,
    /// `None` for a guest (unauthenticated identity).
    pub user: Option<UserSession>,
    /// `None` until the first GetCredentialsForIdentity.
    pub credentials: Option<AwsCredentials>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSession {
    pub tenant_id: String,
    pub username: String,
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    pub tokens: Tokens,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds: the id token's `exp`.
    pub expires_at: i64,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("identity_pool_id", &self.identity_pool_id)
            .field("identity_id", &self.identity_id)
            .field(
                "user",
                &self.user.as_ref().map(|u| (&u.tenant_id, &u.username)),
            )
            .field(
                "tokens_expire_at",
                &self.user.as_ref().map(|u| u.tokens.expires_at),
            )
            .field(
                "credentials_expire_at",
                &self.credentials.as_ref().map(|c| c.expires_at),
            )
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What a session needs before its credentials can sign a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// REFRESH_TOKEN_AUTH for a new id token.
    pub refresh_tokens: bool,
    /// GetCredentialsForIdentity for new credentials.
    pub refresh_credentials: bool,
}

impl Plan {
    pub fn nothing(&self) -> bool {
        !self.refresh_tokens && !self.refresh_credentials
    }
}

/// True when something expiring at `expires_at` should be replaced at `now`.
pub fn is_stale(expires_at: i64, now: i64) -> bool {
    expires_at.saturating_sub(EXPIRY_SKEW_SECS) <= now
}

impl Session {
    pub fn new_user(
        region: &str,
        identity_pool_id: &str,
        identity_id: String,
        user: UserSession,
    ) -> Self {
        Session {
            version: FORMAT_VERSION,
            region: region.to_string(),
            identity_pool_id: identity_pool_id.to_string(),
            identity_id,
            user: Some(user),
            credentials: None,
        }
    }

    pub fn new_guest(region: &str, identity_pool_id: &str, identity_id: String) -> Self {
        Session {
            version: FORMAT_VERSION,
            region: region.to_string(),
            identity_pool_id: identity_pool_id.to_string(),
            identity_id,
            user: None,
            credentials: None,
        }
    }

    pub fn is_guest(&self) -> bool {
        self.user.is_none()
    }

    /// The refresh decision. Credentials are replaced when missing or (nearly) expired. The id
    /// token serves only to get credentials, so it is refreshed when credentials are due and it
    /// has (nearly) expired itself; an expired id token next to valid credentials is left alone.
    pub fn plan(&self, now: i64) -> Plan {
        let refresh_credentials = self
            .credentials
            .as_ref()
            .is_none_or(|c| is_stale(c.expires_at, now));
        let refresh_tokens = refresh_credentials
            && self
                .user
                .as_ref()
                .is_some_and(|u| is_stale(u.tokens.expires_at, now));
        Plan {
            refresh_tokens,
            refresh_credentials,
        }
    }

    /// Who this is, for messages: `alice@acme.example at acme` or `guest`.
    pub fn who(&self) -> String {
        match &self.user {
            Some(u) => format!("{} at {}", u.username, u.tenant_id),
            None => "guest".to_string(),
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoSession {
                    path: path.to_path_buf(),
                });
            }
            Err(source) => {
                return Err(Error::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let session: Session = serde_json::from_str(&text).map_err(|e| Error::SessionFile {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if session.version != FORMAT_VERSION {
            return Err(Error::SessionFile {
                path: path.to_path_buf(),
                message: format!("format version {}", session.version),
            });
        }
        Ok(session)
    }

    /// Writes the session readable by its owner only, through a temporary file and a rename, so
    /// a reader never sees half a file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        write_private(path, &text)
    }

    /// Checks that the session belongs to the stack in `outputs`: its Identity Pool is the one
    /// its tenant's users sign in through (the tenant's own, else the top-level one), or for a
    /// guest the top-level one.
    pub fn check_stack(&self, outputs: &Outputs, path: &Path) -> Result<()> {
        let refused = |message: String| Error::SessionFile {
            path: path.to_path_buf(),
            message,
        };
        let (expected, whose) = match &self.user {
            None => (outputs.guest_identity_pool_id(), "guests".to_string()),
            Some(user) => {
                let tenant = outputs.tenant(&user.tenant_id).map_err(|_| {
                    refused(format!(
                        "it belongs to tenant {}, which the outputs file does not list",
                        user.tenant_id
                    ))
                })?;
                (
                    outputs.tenant_identity_pool_id(tenant),
                    format!("tenant {}", user.tenant_id),
                )
            }
        };
        if self.identity_pool_id != expected {
            return Err(refused(format!(
                "it belongs to Identity Pool {}, the outputs file names {expected} for {whose}",
                self.identity_pool_id
            )));
        }
        Ok(())
    }
}

/// Creates the parent directory (owner only) and writes `bytes` to `path` atomically, mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(err)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(err)?;
        file.write_all(bytes).map_err(err)?;
        file.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
}

/// Which session a command means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `--session FILE`.
    File(PathBuf),
    /// `--as TENANT/NAME` (NAME: a demo name or a username).
    As { tenant: String, name: String },
    /// `--guest`.
    Guest,
    /// None of these: the one named by `current` (the last sign-in).
    Current,
}

impl Selector {
    /// Parses `--as`: `acme/alice` or `acme/alice@acme.example`; `guest` means the guest session.
    pub fn parse_as(value: &str) -> Result<Self> {
        if value == "guest" {
            return Ok(Selector::Guest);
        }
        match value.split_once('/') {
            Some((tenant, name)) if !tenant.is_empty() && !name.is_empty() => Ok(Selector::As {
                tenant: tenant.to_string(),
                name: name.to_string(),
            }),
            _ => Err(Error::Usage(format!(
                "--as {value:?}: expected TENANT/NAME (e.g. acme/alice) or guest"
            ))),
        }
    }
}

/// The directory of session files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStore {
    pub dir: PathBuf,
}

impl SessionStore {
    /// `<dir of the outputs file>/notes-client`.
    pub fn beside(outputs_path: &Path) -> Self {
        let parent = outputs_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        SessionStore {
            dir: parent.join("notes-client"),
        }
    }

    pub fn user_path(&self, tenant: &str, label: &str) -> PathBuf {
        self.dir.join(format!(
            "{}-{}.json",
            sanitize_label(tenant),
            sanitize_label(label)
        ))
    }

    pub fn guest_path(&self) -> PathBuf {
        self.dir.join("guest.json")
    }

    fn current_pointer(&self) -> PathBuf {
        self.dir.join("current")
    }

    /// The session file a selector means. `--as` names resolve through the outputs file's demo
    /// users when the tenant is listed there, so `acme/alice` and `acme/alice@acme.example` are
    /// the same session.
    pub fn path_for(&self, selector: &Selector, outputs: Option<&Outputs>) -> Result<PathBuf> {
        match selector {
            Selector::File(path) => Ok(path.clone()),
            Selector::Guest => Ok(self.guest_path()),
            Selector::As { tenant, name } => {
                let label = outputs
                    .and_then(|o| o.tenant(tenant).ok())
                    .map_or_else(|| sanitize_label(name), |t| t.resolve_user(name).label);
                Ok(self.user_path(tenant, &label))
            }
            Selector::Current => {
                let pointer = self.current_pointer();
                match std::fs::read_to_string(&pointer) {
                    Ok(name) => {
                        let name = name.trim();
                        if name.is_empty() {
                            return Err(no_current());
                        }
                        let path = PathBuf::from(name);
                        Ok(if path.is_absolute() {
                            path
                        } else {
                            self.dir.join(path)
                        })
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(no_current()),
                    Err(source) => Err(Error::Read {
                        path: pointer,
                        source,
                    }),
                }
            }
        }
    }

    /// Makes `path` the session of commands given no selector.
    pub fn set_current(&self, path: &Path) -> Result<()> {
        let name = match path.strip_prefix(&self.dir) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
        };
        write_private(
            &self.current_pointer(),
            format!("{}\n", name.display()).as_bytes(),
        )
    }

    /// Forgets `current` if it names `path`.
    pub fn clear_current_if(&self, path: &Path) -> Result<()> {
        if let Ok(current) = self.path_for(&Selector::Current, None)
            && current == path
        {
            match std::fs::remove_file(self.current_pointer()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::Write {
                        path: self.current_pointer(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }
}

fn no_current() -> Error {
    Error::Usage(
        "no session chosen and no current one: sign in first, or pass --as TENANT/NAME, \
         --session FILE or --guest"
            .to_string(),
    )
}

/// Unix seconds now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(expires_at: i64) -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIA".into(),
            secret_access_key: "secret".into(),
            session_token: "token".into(),
            expires_at,
        }
    }

    fn user(tokens_expire_at: i64) -> UserSession {
        UserSession {
            tenant_id: "acme".into(),
            username: "alice@acme.example".into(),
            user_pool_id: "eu-central-1_abc".into(),
            user_pool_client_id: "client".into(),
            tokens: Tokens {
                id_token: "id".into(),
                access_token: "access".into(),
                refresh_token: "refresh".into(),
                expires_at: tokens_expire_at,
            },
        }
    }

    const NOW: i64 = 1_800_000_000;

    fn plan(tokens: Option<i64>, credentials: Option<i64>) -> Plan {
        let mut s = match tokens {
            Some(t) => Session::new_user("eu-central-1", "pool", "id".into(), user(t)),
            None => Session::new_guest("eu-central-1", "pool", "id".into()),
        };
        s.credentials = credentials.map(creds);
        s.plan(NOW)
    }

    const FRESH: Plan = Plan {
        refresh_tokens: false,
        refresh_credentials: false,
    };
    const CREDS: Plan = Plan {
        refresh_tokens: false,
        refresh_credentials: true,
    };
    const BOTH: Plan = Plan {
        refresh_tokens: true,
        refresh_credentials: true,
    };

    #[test]
    fn fresh_session_needs_nothing() {
        assert_eq!(plan(Some(NOW + 3600), Some(NOW + 3600)), FRESH);
        assert!(FRESH.nothing());
        assert_eq!(plan(None, Some(NOW + 3600)), FRESH);
    }

    #[test]
    fn expired_credentials_with_a_valid_id_token_need_only_credentials() {
        assert_eq!(plan(Some(NOW + 3600), Some(NOW - 1)), CREDS);
        assert_eq!(plan(Some(NOW + 3600), None), CREDS);
    }

    #[test]
    fn expired_credentials_and_id_token_need_both_tokens_first() {
        assert_eq!(plan(Some(NOW - 1), Some(NOW - 1)), BOTH);
        assert_eq!(plan(Some(NOW), None), BOTH);
    }

    #[test]
    fn an_expired_id_token_alone_is_left_until_credentials_are_due() {
        assert_eq!(plan(Some(NOW - 10), Some(NOW + 3600)), FRESH);
    }

    #[test]
    fn a_guest_never_refreshes_tokens() {
        assert_eq!(plan(None, Some(NOW - 1)), CREDS);
        assert_eq!(plan(None, None), CREDS);
    }

    #[test]
    fn expiry_within_the_skew_counts_as_expired() {
        assert!(is_stale(NOW + EXPIRY_SKEW_SECS, NOW));
        assert!(!is_stale(NOW + EXPIRY_SKEW_SECS + 1, NOW));
        assert_eq!(plan(Some(NOW + 30), Some(NOW + 30)), BOTH);
        assert!(is_stale(i64::MIN, NOW));
        assert!(!is_stale(i64::MAX, NOW));
    }

    #[test]
    fn as_selector_parses() {
        assert_eq!(
            Selector::parse_as("acme/alice").unwrap(),
            Selector::As {
                tenant: "acme".into(),
                name: "alice".into()
            }
        );
        assert_eq!(Selector::parse_as("guest").unwrap(), Selector::Guest);
        for bad in ["acme", "/alice", "acme/", ""] {
            assert!(Selector::parse_as(bad).is_err(), "{bad}");
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("notes-client-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn sessions_of_several_users_coexist_and_current_follows_sign_in() {
        let outputs = crate::outputs::Outputs::parse(
            r#"{"region":"eu-central-1","graphqlUrl":"http://127.0.0.1:1/graphql",
                "identityPoolId":"eu-central-1:x","tenants":[
                {"tenantId":"acme","userPoolId":"eu-central-1_a","userPoolClientId":"c",
                 "users":[{"username":"alice@acme.example","name":"alice"}]}]}"#,
        )
        .unwrap();
        let dir = temp_dir("coexist");
        let store = SessionStore { dir: dir.clone() };
        let alice = store
            .path_for(
                &Selector::parse_as("acme/alice@acme.example").unwrap(),
                Some(&outputs),
            )
            .unwrap();
        assert_eq!(alice, dir.join("acme-alice.json"));
        let bob = store
            .path_for(&Selector::parse_as("globex/bob").unwrap(), Some(&outputs))
            .unwrap();
        assert_eq!(bob, dir.join("globex-bob.json"));
        assert!(store.path_for(&Selector::Current, None).is_err());

        let mut a = Session::new_user("eu-central-1", "eu-central-1:x", "id-a".into(), user(NOW));
        a.credentials = Some(creds(NOW));
        a.save(&alice).unwrap();
        Session::new_guest("eu-central-1", "eu-central-1:x", "id-b".into())
            .save(&bob)
            .unwrap();
        store.set_current(&alice).unwrap();
        assert_eq!(store.path_for(&Selector::Current, None).unwrap(), alice);
        assert_eq!(Session::load(&alice).unwrap(), a);
        assert_eq!(Session::load(&bob).unwrap().identity_id, "id-b");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&alice).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        store.clear_current_if(&bob).unwrap();
        assert_eq!(store.path_for(&Selector::Current, None).unwrap(), alice);
        store.clear_current_if(&alice).unwrap();
        assert!(store.path_for(&Selector::Current, None).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_or_foreign_session_files_are_clear_errors() {
        let dir = temp_dir("errors");
        let missing = dir.join("nobody.json");
        assert!(matches!(
            Session::load(&missing),
            Err(Error::NoSession { .. })
        ));
        write_private(&missing, b"{\"not\":\"a session\"}").unwrap();
        assert!(matches!(
            Session::load(&missing),
            Err(Error::SessionFile { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn default_store_is_beside_the_outputs_file() {
        assert_eq!(
            SessionStore::beside(Path::new(".local/outputs.json")).dir,
            PathBuf::from(".local/notes-client")
        );
        assert_eq!(
            SessionStore::beside(Path::new("outputs.json")).dir,
            PathBuf::from("./notes-client")
        );
    }

    const POOLS: &str = r#"{"region":"eu-central-1","graphqlUrl":"http://127.0.0.1:1/graphql",
        "identityPoolId":"eu-central-1:first","allowGuests":true,"tenants":[
        {"tenantId":"acme","userPoolId":"eu-central-1_a","userPoolClientId":"c",
         "identityPoolId":"eu-central-1:second"},
        {"tenantId":"globex","userPoolId":"eu-central-1_g","userPoolClientId":"c"}]}"#;

    fn user_of(tenant: &str) -> UserSession {
        UserSession {
            tenant_id: tenant.into(),
            ..user(NOW)
        }
    }

    fn check(session: &Session) -> Result<()> {
        let outputs = Outputs::parse(POOLS).unwrap();
        session.check_stack(&outputs, Path::new("s.json"))
    }

    #[test]
    fn a_user_session_belongs_to_its_tenants_own_identity_pool() {
        let at = |pool: &str| Session::new_user("eu-central-1", pool, "id".into(), user_of("acme"));
        assert!(check(&at("eu-central-1:second")).is_ok());
        let err = check(&at("eu-central-1:first")).unwrap_err().to_string();
        assert!(
            err.contains("eu-central-1:second") && err.contains("acme"),
            "{err}"
        );
    }

    #[test]
    fn a_user_session_of_a_tenant_without_its_own_pool_belongs_to_the_top_level_one() {
        let at =
            |pool: &str| Session::new_user("eu-central-1", pool, "id".into(), user_of("globex"));
        assert!(check(&at("eu-central-1:first")).is_ok());
        assert!(check(&at("eu-central-1:second")).is_err());
    }

    #[test]
    fn a_guest_session_belongs_to_the_top_level_identity_pool() {
        assert!(
            check(&Session::new_guest(
                "eu-central-1",
                "eu-central-1:first",
                "id".into()
            ))
            .is_ok()
        );
        assert!(
            check(&Session::new_guest(
                "eu-central-1",
                "eu-central-1:second",
                "id".into()
            ))
            .is_err()
        );
    }

    #[test]
    fn a_user_session_of_an_unlisted_tenant_is_refused() {
        let s = Session::new_user(
            "eu-central-1",
            "eu-central-1:first",
            "id".into(),
            user_of("initech"),
        );
        let err = check(&s).unwrap_err().to_string();
        assert!(err.contains("initech"), "{err}");
    }

    #[test]
    fn debug_does_not_print_secrets() {
        let mut s = Session::new_user("eu-central-1", "p", "id".into(), user(NOW));
        s.credentials = Some(creds(NOW));
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("secret") && !dbg.contains("refresh"), "{dbg}");
    }
}
