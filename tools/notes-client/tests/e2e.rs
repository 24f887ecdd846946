//! End to end through the live stack: the `notes-client` binary signs in at the tenants' User
//! Pools, gets Identity Pool credentials and sends SigV4-signed GraphQL.
//!
//!   scripts/local.sh --port 0 &   # writes .local/outputs.json once everything is up
//!   NOTES_OUTPUTS=.local/outputs.json cargo test -p notes-client --test e2e -- --ignored
//!
//! Every test is `#[ignore]`d: it needs the stack. Each test keeps its sessions in its own
//! temporary directory.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use notes_client::outputs::Outputs;
use notes_client::session::Session;
use serde_json::{Value, json};

struct Stack {
    outputs_path: PathBuf,
    outputs: Outputs,
    sessions: PathBuf,
}

impl Stack {
    fn new(test: &str) -> Self {
        let outputs_path = PathBuf::from(
            std::env::var_os("NOTES_OUTPUTS")
                .expect("set NOTES_OUTPUTS to the live stack's outputs file (.local/outputs.json)"),
        );
        let outputs =
            Outputs::load(&outputs_path).expect("NOTES_OUTPUTS is not a valid outputs file");
        let sessions =
            std::env::temp_dir().join(format!("notes-client-e2e-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&sessions);
        Stack {
            outputs_path,
            outputs,
            sessions,
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_notes-client"))
            .arg("--outputs")
            .arg(&self.outputs_path)
            .arg("--sessions-dir")
            .arg(&self.sessions)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start notes-client");
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        drop(pipe);
        child
            .wait_with_output()
            .expect("notes-client did not finish")
    }

    fn password(&self, tenant: &str, name: &str) -> String {
        let t = self.outputs.tenant(tenant).expect("tenant in outputs");
        let user = t
            .users
            .iter()
            .find(|u| u.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no demo user {tenant}/{name} in the outputs file"));
        user.password.clone().expect("demo user without a password")
    }

    /// Signs in `tenant/name` with the demo password; the command's stdout.
    fn sign_in(&self, tenant: &str, name: &str) -> String {
        let password = format!("{}\n", self.password(tenant, name));
        let out = self.run(
            &[
                "sign-in",
                "--tenant",
                tenant,
                "--username",
                name,
                "--password-stdin",
            ],
            Some(&password),
        );
        assert!(
            out.status.success(),
            "sign-in {tenant}/{name}: {}",
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The answer to `query` as `who` (`acme/alice` or `guest`); the command must succeed.
    fn query(&self, who: &str, query: &str, variables: Option<Value>) -> Value {
        let out = self.query_output(who, query, variables);
        assert!(out.status.success(), "query as {who}: {}", text(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("query as {who}: not JSON ({e}): {}", text(&out)))
    }

    fn query_output(&self, who: &str, query: &str, variables: Option<Value>) -> Output {
        let vars = variables.map(|v| v.to_string());
        let mut args = if who == "guest" {
            vec!["query", query, "--guest"]
        } else {
            vec!["--as", who, "query", query]
        };
        if let Some(v) = &vars {
            args.extend(["--variables", v.as_str()]);
        }
        self.run(&args, None)
    }

    fn identity_id(&self, who: &str) -> String {
        let me = self.query(who, "{ me { identityId authenticated tenantId } }", None);
        me["data"]["me"]["identityId"]
            .as_str()
            .unwrap_or_else(|| panic!("no identity id for {who}: {me}"))
            .to_string()
    }

    fn create_note(&self, who: &str, title: &str, visibility: &str) -> String {
        let r = self.query(
            who,
            "mutation ($t: String!, $v: Visibility!) { createNote(input: {title: $t, visibility: $v}) { id version visibility } }",
            Some(json!({ "t": title, "v": visibility })),
        );
        assert_eq!(r["data"]["createNote"]["version"], 1, "{r}");
        r["data"]["createNote"]["id"]
            .as_str()
            .expect("note id")
            .to_string()
    }

    fn session_path(&self, tenant: &str, name: &str) -> PathBuf {
        self.sessions.join(format!("{tenant}-{name}.json"))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.sessions);
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every note id of `who`'s `notes`, following nextToken.
fn all_note_ids(stack: &Stack, who: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..50 {
        let r = stack.query(
            who,
            "query ($n: String) { notes(limit: 100, nextToken: $n) { items { id } nextToken } }",
            Some(json!({ "n": token })),
        );
        assert!(r.get("errors").is_none(), "{r}");
        let page = &r["data"]["notes"];
        for item in page["items"].as_array().expect("items") {
            ids.push(item["id"].as_str().expect("id").to_string());
        }
        match page["nextToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => return ids,
        }
    }
    panic!("more than 50 pages of notes")
}

#[test]
#[ignore = "needs the live stack: NOTES_OUTPUTS=.local/outputs.json"]
fn bob_cannot_read_alices_notes_by_id_or_in_his_list() {
    let stack = Stack::new("isolation");
    let signed = stack.sign_in("acme", "alice");
    assert!(signed.contains("at tenant acme"), "{signed}");
    stack.sign_in("acme", "carol");
    stack.sign_in("globex", "bob");

    let private = stack.create_note("acme/alice", "alice's secret plan", "PRIVATE");
    let shared = stack.create_note("acme/alice", "acme-wide memo", "TENANT");
    let public = stack.create_note("acme/alice", "acme is hiring", "PUBLIC");
    let by_id = "query ($id: ID!) { note(id: $id) { id ownerId } }";

    // carol, same tenant: the TENANT note yes, the PRIVATE one no.
    let r = stack.query("acme/carol", by_id, Some(json!({ "id": shared })));
    assert_eq!(r["data"]["note"]["id"], shared.as_str(), "{r}");
    let r = stack.query("acme/carol", by_id, Some(json!({ "id": private })));
    assert_eq!(r["data"]["note"], Value::Null, "{r}");

    // bob, another tenant: none of them, by id or in his list.
    for id in [&private, &shared, &public] {
        let r = stack.query("globex/bob", by_id, Some(json!({ "id": id })));
        assert_eq!(r["data"]["note"], Value::Null, "bob read {id}: {r}");
        assert!(r.get("errors").is_none(), "{r}");
    }
    let bobs = all_note_ids(&stack, "globex/bob");
    for id in [&private, &shared, &public] {
        assert!(!bobs.contains(id), "alice's note {id} in bob's notes");
    }
    // And alice still sees all three (the ids are real).
    let alices = all_note_ids(&stack, "acme/alice");
    for id in [&private, &shared, &public] {
        assert!(
            alices.contains(id),
            "alice's note {id} missing from her notes"
        );
    }
}

#[test]
#[ignore = "needs the live stack: NOTES_OUTPUTS=.local/outputs.json"]
fn signing_in_again_gives_the_same_identity_which_still_owns_its_notes() {
    let first = Stack::new("again-1");
    first.sign_in("acme", "carol");
    let id1 = first.identity_id("acme/carol");
    let note = first.create_note("acme/carol", "carol's list", "PRIVATE");

    // A separate sign-in (its own session directory), as another device would.
    let second = Stack::new("again-2");
    second.sign_in("acme", "carol");
    let id2 = second.identity_id("acme/carol");
    assert_eq!(id1, id2, "a second sign-in got another identity");

    let r = second.query(
        "acme/carol",
        "mutation ($id: ID!) { updateNote(input: {id: $id, title: \"carol's list v2\", expectedVersion: 1}) { id ownerId version title } }",
        Some(json!({ "id": note })),
    );
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["updateNote"]["version"], 2, "{r}");
    assert_eq!(r["data"]["updateNote"]["ownerId"], id1.as_str(), "{r}");

    let r = first.query(
        "acme/carol",
        "query ($id: ID!) { note(id: $id) { title version ownerId } }",
        Some(json!({ "id": note })),
    );
    assert_eq!(r["data"]["note"]["title"], "carol's list v2", "{r}");
}

#[test]
#[ignore = "needs the live stack: NOTES_OUTPUTS=.local/outputs.json"]
fn guest_reads_public_notes_and_is_refused_notes() {
    let stack = Stack::new("guest");
    stack.sign_in("acme", "alice");
    let public = stack.create_note("acme/alice", "for everyone", "PUBLIC");

    let r = stack.query(
        "guest",
        "{ publicNotes(tenantId: \"acme\", limit: 100) { items { id visibility } } }",
        None,
    );
    assert!(r.get("errors").is_none(), "{r}");
    let items = r["data"]["publicNotes"]["items"].as_array().expect("items");
    assert!(items.iter().all(|n| n["visibility"] == "PUBLIC"), "{r}");
    assert!(items.iter().any(|n| n["id"] == public.as_str()), "{r}");

    let me = stack.query(
        "guest",
        "{ me { identityId authenticated tenantId } }",
        None,
    );
    assert_eq!(me["data"]["me"]["authenticated"], false, "{me}");

    let r = stack.query("guest", "{ notes { items { id } } }", None);
    let errors = r["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {r}"));
    assert_eq!(errors[0]["errorType"], "Unauthorized", "{r}");
    assert_eq!(
        errors[0]["message"], "Not Authorized to access notes on type Query",
        "{r}"
    );
}

#[test]
#[ignore = "needs the live stack: NOTES_OUTPUTS=.local/outputs.json"]
fn expired_tokens_and_credentials_are_refreshed() {
    let stack = Stack::new("refresh");
    stack.sign_in("globex", "bob");
    let id = stack.identity_id("globex/bob");
    let path = stack.session_path("globex", "bob");
    let before = Session::load(&path).expect("bob's session");

    // Credentials expired, id token still valid: only GetCredentialsForIdentity.
    let mut s = before.clone();
    s.credentials.as_mut().expect("credentials").expires_at = 0;
    s.save(&path).expect("save");
    let out = stack.query_output("globex/bob", "{ me { identityId } }", None);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refreshed") && stderr.contains("credentials"),
        "{stderr}"
    );
    assert!(!stderr.contains("tokens"), "{stderr}");
    let after = Session::load(&path).expect("session");
    assert!(after.credentials.as_ref().expect("credentials").expires_at > 0);
    assert_ne!(after.credentials, before.credentials);

    // Both expired: REFRESH_TOKEN_AUTH first, then new credentials, same identity.
    let mut s = after.clone();
    s.credentials.as_mut().expect("credentials").expires_at = 0;
    s.user.as_mut().expect("user").tokens.expires_at = 0;
    s.save(&path).expect("save");
    let out = stack.query_output("globex/bob", "{ me { identityId } }", None);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("REFRESH_TOKEN_AUTH"), "{stderr}");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(answer["data"]["me"]["identityId"], id.as_str());
    let refreshed = Session::load(&path).expect("session");
    let user = refreshed.user.as_ref().expect("user");
    assert!(user.tokens.expires_at > 0);
    assert_eq!(refreshed.identity_id, id);
}

#[test]
#[ignore = "needs the live stack: NOTES_OUTPUTS=.local/outputs.json"]
fn unknown_users_and_signed_out_sessions_are_refused() {
    let stack = Stack::new("refusals");
    let out = stack.run(
        &[
            "sign-in",
            "--tenant",
            "acme",
            "--username",
            "nobody@acme.example",
            "--password-stdin",
        ],
        Some("Whatever-Local-1\n"),
    );
    assert!(!out.status.success(), "{}", text(&out));

    // bob's pool does not know alice.
    let out = stack.run(
        &[
            "sign-in",
            "--tenant",
            "globex",
            "--username",
            "alice@acme.example",
            "--password-stdin",
        ],
        Some(&format!("{}\n", stack.password("acme", "alice"))),
    );
    assert!(!out.status.success(), "{}", text(&out));

    stack.sign_in("acme", "alice");
    let out = stack.run(&["--as", "acme/alice", "sign-out"], None);
    assert!(out.status.success(), "{}", text(&out));
    let out = stack.query_output("acme/alice", "{ me { identityId } }", None);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sign in"),
        "{}",
        text(&out)
    );
}

#[test]
#[ignore = "needs the live stack: NOTES_OUTPUTS=.local/outputs.json"]
fn a_wrong_password_is_refused_as_cognito_refuses_it() {
    let stack = Stack::new("wrong-password");
    // alice exists and the SRP exchange starts; only her password proof is wrong.
    let wrong = format!("{}-not-it\n", stack.password("acme", "alice"));
    let out = stack.run(
        &[
            "sign-in",
            "--tenant",
            "acme",
            "--username",
            "alice",
            "--password-stdin",
        ],
        Some(&wrong),
    );
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NotAuthorizedException: Incorrect username or password."),
        "{}",
        text(&out)
    );
    // No session was written: alice is not signed in.
    let out = stack.query_output("acme/alice", "{ me { identityId } }", None);
    assert!(!out.status.success(), "{}", text(&out));
}
