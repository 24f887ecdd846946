//! The command line: `sign-in`, `query`, `sign-out`.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cognito::Cognito;
use crate::error::{Error, Result};
use crate::graphql::{client, render, request_body};
use crate::outputs::Outputs;
use crate::session::{Selector, Session, SessionStore, now_secs};

/// The notes API's app flow as a command: sign in at a tenant's User Pool (SRP), trade the id
/// token for Identity Pool credentials, send SigV4-signed GraphQL.
#[derive(Debug, Parser)]
#[command(name = "notes-client", version)]
pub struct Cli {
    /// The stack's outputs file (region, graphqlUrl, identityPoolId, tenants, ...).
    #[arg(
        long,
        global = true,
        env = "NOTES_OUTPUTS",
        default_value = ".local/outputs.json"
    )]
    pub outputs: PathBuf,
    /// Where sessions are kept [default: notes-client/ beside the outputs file].
    #[arg(long, global = true, env = "NOTES_SESSIONS_DIR", value_name = "DIR")]
    pub sessions_dir: Option<PathBuf>,
    /// Act as this signed-in user (TENANT/NAME, NAME a demo name or the username), or `guest`.
    #[arg(long = "as", global = true, value_name = "TENANT/NAME")]
    pub as_user: Option<String>,
    /// Use (or, for sign-in, write) this session file.
    #[arg(long, global = true, value_name = "FILE")]
    pub session: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in at the tenant's User Pool (SRP) and get Identity Pool credentials.
    SignIn {
        #[arg(long)]
        tenant: String,
        /// The sign-in username (email), or a demo user's name from the outputs file.
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Send a GraphQL request signed with the session's credentials; prints the answer.
    Query {
        /// The GraphQL document.
        query: String,
        /// Variables, a JSON object.
        #[arg(long, value_name = "JSON")]
        variables: Option<String>,
        /// As a guest: unauthenticated credentials of the top-level Identity Pool (the guests' one).
        #[arg(long)]
        guest: bool,
    },
    /// Forget a session (the current one, or the one named by --as/--session/--guest).
    SignOut {
        #[arg(long)]
        guest: bool,
    },
}

impl Cli {
    fn store(&self) -> SessionStore {
        match &self.sessions_dir {
            Some(dir) => SessionStore { dir: dir.clone() },
            None => SessionStore::beside(&self.outputs),
        }
    }

    /// The session a query or sign-out means.
    fn selector(&self, guest: bool) -> Result<Selector> {
        let named = match (&self.session, &self.as_user) {
            (Some(_), Some(_)) => {
                return Err(Error::Usage("give --session or --as, not both".into()));
            }
            (Some(file), None) => Some(Selector::File(file.clone())),
            (None, Some(value)) => Some(Selector::parse_as(value)?),
            (None, None) => None,
        };
        Ok(match (guest, named) {
            (false, Some(selector)) => selector,
            (false, None) => Selector::Current,
            (true, None | Some(Selector::Guest)) => Selector::Guest,
            // --guest --session FILE: that file holds the guest session.
            (true, Some(Selector::File(file))) => Selector::File(file),
            (true, Some(_)) => {
                return Err(Error::Usage(
                    "--guest and --as TENANT/NAME contradict".into(),
                ));
            }
        })
    }
}

/// Runs a parsed command line; the exit code for `main`.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::SignIn {
            tenant,
            username,
            password_stdin,
        } => {
            sign_in(&cli, tenant, username, *password_stdin).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Query {
            query,
            variables,
            guest,
        } => query_command(&cli, query, variables.as_deref(), *guest).await,
        Command::SignOut { guest } => {
            sign_out(&cli, *guest)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn sign_in(cli: &Cli, tenant_id: &str, username: &str, password_stdin: bool) -> Result<()> {
    if cli.as_user.is_some() {
        return Err(Error::Usage(
            "sign-in takes --tenant and --username, not --as".into(),
        ));
    }
    let outputs = Outputs::load(&cli.outputs)?;
    let tenant = outputs.tenant(tenant_id)?;
    let user = tenant.resolve_user(username);
    let password = read_password(&user.username, password_stdin)?;
    let cognito = Cognito::new(&outputs);
    let now = now_secs();
    let session = cognito
        .sign_in(&outputs, tenant, &user.username, &password, now)
        .await?;
    let store = cli.store();
    let path = match &cli.session {
        Some(file) => file.clone(),
        None => store.user_path(&tenant.tenant_id, &user.label),
    };
    session.save(&path)?;
    store.set_current(&path)?;
    let expires = session
        .credentials
        .as_ref()
        .map_or(0, |c| c.expires_at.saturating_sub(now) / 60);
    println!(
        "signed in: {} at tenant {} (User Pool {})",
        user.username, tenant.tenant_id, tenant.user_pool_id
    );
    println!(
        "identity:  {} (Identity Pool {})",
        session.identity_id, session.identity_pool_id
    );
    println!("credentials for about {expires} min, refreshed when they expire");
    println!(
        "session:   {} (current; or --as {}/{})",
        path.display(),
        tenant.tenant_id,
        user.label
    );
    Ok(())
}

fn read_password(username: &str, from_stdin: bool) -> Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|source| Error::Read {
                path: PathBuf::from("<stdin>"),
                source,
            })?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        rpassword::prompt_password(format!("Password for {username}: ")).map_err(|source| {
            Error::Read {
                path: PathBuf::from("/dev/tty (use --password-stdin without a terminal)"),
                source,
            }
        })?
    };
    if password.is_empty() {
        return Err(Error::Usage("empty password".into()));
    }
    Ok(password)
}

async fn query_command(
    cli: &Cli,
    query: &str,
    variables: Option<&str>,
    guest: bool,
) -> Result<ExitCode> {
    let body = request_body(query, variables)?;
    let outputs = Outputs::load(&cli.outputs)?;
    let store = cli.store();
    let selector = cli.selector(guest)?;
    let path = store.path_for(&selector, Some(&outputs))?;
    let cognito = Cognito::new(&outputs);
    let session = fresh_session(
        &cognito,
        &outputs,
        &path,
        guest || selector == Selector::Guest,
    )
    .await?;
    let credentials = session
        .credentials
        .as_ref()
        .ok_or_else(|| Error::SessionFile {
            path: path.clone(),
            message: "no credentials".into(),
        })?;
    let (status, answer) = client(&outputs.graphql_url, &outputs.region, credentials)?
        .post(body)
        .await?;
    println!("{}", render(&answer));
    if (200..300).contains(&status) {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Error::Status {
            status,
            body: String::from_utf8_lossy(&answer).into_owned(),
        })
    }
}

/// The session at `path` with valid credentials: refreshed (and saved) as its plan says; for a
/// guest, created when missing or left over from another stack.
async fn fresh_session(
    cognito: &Cognito,
    outputs: &Outputs,
    path: &Path,
    guest: bool,
) -> Result<Session> {
    let loaded = match Session::load(path) {
        Ok(session) if guest && session.identity_pool_id != outputs.guest_identity_pool_id() => {
            None
        }
        Ok(session) => Some(session),
        Err(Error::NoSession { .. }) if guest => None,
        Err(e) => return Err(e),
    };
    let Some(mut session) = loaded else {
        let session = cognito.guest(outputs).await?;
        session.save(path)?;
        eprintln!("notes-client: new guest identity {}", session.identity_id);
        return Ok(session);
    };
    if guest && !session.is_guest() {
        return Err(Error::Usage(format!(
            "{} is {}'s session, not a guest's",
            path.display(),
            session.who()
        )));
    }
    session.check_stack(outputs, path)?;
    let plan = session.plan(now_secs());
    if plan.nothing() {
        return Ok(session);
    }
    if plan.refresh_tokens
        && let Some(user) = session.user.as_mut()
    {
        cognito.refresh_tokens(user, now_secs()).await?;
        eprintln!(
            "notes-client: refreshed {}'s tokens (REFRESH_TOKEN_AUTH)",
            session.who()
        );
    }
    if plan.refresh_credentials {
        match cognito.credentials(&session).await {
            Ok(credentials) => session.credentials = Some(credentials),
            // The stack forgot this guest identity (e.g. restarted): a new guest.
            Err(Error::Aws { message, .. })
                if session.is_guest() && message.starts_with("ResourceNotFoundException") =>
            {
                session = cognito.guest(outputs).await?;
                eprintln!("notes-client: new guest identity {}", session.identity_id);
            }
            Err(e) => return Err(e),
        }
        eprintln!(
            "notes-client: refreshed {}'s credentials (GetCredentialsForIdentity)",
            session.who()
        );
    }
    session.save(path)?;
    Ok(session)
}

fn sign_out(cli: &Cli, guest: bool) -> Result<()> {
    let store = cli.store();
    let outputs = Outputs::load(&cli.outputs).ok();
    let path = store.path_for(&cli.selector(guest)?, outputs.as_ref())?;
    let who = Session::load(&path).map(|s| s.who());
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NoSession { path });
        }
        Err(source) => return Err(Error::Write { path, source }),
    }
    store.clear_current_if(&path)?;
    println!(
        "signed out: {} (removed {})",
        who.unwrap_or_else(|_| "session".into()),
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("notes-client").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn global_options_go_before_or_after_the_command() {
        let a = parse(&["--as", "acme/alice", "query", "{ me { identityId } }"]);
        let b = parse(&["query", "{ me { identityId } }", "--as", "acme/alice"]);
        assert_eq!(a.as_user, b.as_user);
    }

    #[test]
    fn selectors() {
        let sel = |args: &[&str], guest| parse(args).selector(guest);
        assert_eq!(sel(&["query", "q"], false).unwrap(), Selector::Current);
        assert_eq!(
            sel(&["query", "q", "--guest"], true).unwrap(),
            Selector::Guest
        );
        assert_eq!(
            sel(&["--as", "guest", "query", "q"], false).unwrap(),
            Selector::Guest
        );
        assert_eq!(
            sel(&["--session", "s.json", "query", "q", "--guest"], true).unwrap(),
            Selector::File("s.json".into())
        );
        assert!(sel(&["--as", "acme/alice", "query", "q", "--guest"], true).is_err());
        assert!(
            sel(
                &["--as", "acme/alice", "--session", "s", "query", "q"],
                false
            )
            .is_err()
        );
        assert!(sel(&["--as", "alice", "query", "q"], false).is_err());
    }

    #[test]
    fn sessions_dir_defaults_beside_the_outputs_file() {
        let cli = parse(&["--outputs", "/tmp/x/outputs.json", "sign-out"]);
        assert_eq!(cli.store().dir, PathBuf::from("/tmp/x/notes-client"));
        let cli = parse(&["--sessions-dir", "/s", "sign-out"]);
        assert_eq!(cli.store().dir, PathBuf::from("/s"));
    }
}
