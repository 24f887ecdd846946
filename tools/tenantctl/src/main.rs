//! `tenantctl`: the operator's CLI for the table, the tenant registry and each tenant's
//! lifecycle. Reads `TABLE_NAME`, `IDENTITY_POOL_ID` and the standard AWS environment
//! (`AWS_REGION`, credentials, and per service `AWS_ENDPOINT_URL_DYNAMODB`,
//! `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`, `AWS_ENDPOINT_URL_COGNITO_IDENTITY`), so the same
//! binary works against AWS and the local stack.

// The `///` comments on the CLI's arguments are clap's help text, read by people at a terminal
// (`<region>`, `<tenant-id>` are placeholders there), not rustdoc's HTML.
#![allow(rustdoc::invalid_html_tags)]

mod calls;
mod error;
mod identity_pool;
mod offboard;
mod onboard;
mod placement;
mod portability;
mod remove_user;
mod steps;
mod subscriptions;
mod user_pools;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde::Serialize;
use shared::identity::ProviderKey;
use shared::store::TenantRegistry;
use shared::store::TenantStore;
use shared::store::admin::{Admin, ImportTarget};
use shared::tenancy::{TenantId, TenantStatus};
use shared::{AppError, notes, profiles};

use crate::error::{Error, Result};
use crate::identity_pool::{Additions, Federated, IdentityPool, UserPoolProvider};
use crate::user_pools::UserPools;

#[derive(Parser)]
#[command(version, about = "Manage the tenants of the notes API")]
struct Cli {
    /// The DynamoDB table (defaults to $TABLE_NAME).
    #[arg(long, env = "TABLE_NAME", global = true)]
    table_name: Option<String>,
    /// The Cognito Identity Pool the API trusts (defaults to $IDENTITY_POOL_ID, the variable
    /// the functions read). Needed by onboard, offboard, remove-user, resume and
    /// sync-identity-pool.
    #[arg(long, env = "IDENTITY_POOL_ID", global = true)]
    identity_pool_id: Option<String>,
    /// How long a change of the Identity Pool's providers waits before reading it back to see
    /// that no concurrent change overwrote it; must exceed the time any other tenantctl takes
    /// from reading the pool to its write landing.
    #[arg(
        long,
        env = "TENANTCTL_SETTLE_MS",
        default_value_t = 3000,
        global = true
    )]
    settle_ms: u64,
    /// Print the result as one JSON object (onboard, offboard, export, import).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table (keys, public index, TTL) if it does not exist.
    CreateTable,
    /// Give every note written before the listing index its key in it (gsi2sk), and every
    /// provider item its tenant's record (one-read look-ups); conditional, idempotent: a second
    /// run writes nothing. Run it before and after deploying a version that adds them
    /// (docs/scale.md, "Migrating an existing table").
    BackfillIndexes {
        /// Parallel scan segments (1-16).
        #[arg(long, default_value_t = 4)]
        segments: u32,
    },
    /// Register a tenant (created ACTIVE if new) and map a provider key to it. Repeat to map
    /// more providers; a provider already mapped to another tenant is refused. (onboard does
    /// this and the rest of a tenant's set-up.)
    Register {
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        name: String,
        /// e.g. cognito-idp.<region>.amazonaws.com/<poolId>, accounts.google.com, or an IAM
        /// OIDC/SAML provider ARN.
        #[arg(long)]
        provider: String,
        /// Allow a provider key that every account of a public identity provider shares
        /// (accounts.google.com, graph.facebook.com, www.amazon.com, appleid.apple.com,
        /// multi-tenant OIDC issuers): EVERY account of that provider then becomes a user of
        /// this tenant. Without it such keys are refused; federate those providers through the
        /// tenant's own User Pool instead, so the pool is the key.
        #[arg(long)]
        shared_issuer: bool,
    },
    /// Rename a tenant (its registry record and every provider's copy). Onboard and register
    /// refuse another name for an existing tenant, so a typo in a rerun never renames one.
    Rename {
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        name: String,
    },
    /// Onboard a tenant: its User Pool and app client (found by tags, or created with the
    /// template's settings), listed in the Identity Pool, registered, its first user created
    /// and made ADMIN at their first sign-in. Idempotent: run it again to finish an
    /// interrupted onboarding.
    Onboard {
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        name: String,
        /// The first user, made the tenant's ADMIN on their first call.
        #[arg(long)]
        admin_email: String,
        /// More providers of this tenant: an IAM OIDC or SAML provider ARN, or DOMAIN=APP_ID
        /// for a login provider (accounts.google.com=<client id>). Repeatable.
        #[arg(long)]
        federated: Vec<String>,
        /// Allow a --federated provider whose key every account of a public identity provider
        /// shares (see `register --shared-issuer`).
        #[arg(long)]
        shared_issuer: bool,
        /// The admin's temporary password, set without an invitation email (hand it over).
        /// Without this or --generate-temporary-password, Cognito emails an invitation.
        #[arg(long, env = "TENANTCTL_TEMPORARY_PASSWORD", hide_env_values = true)]
        temporary_password: Option<String>,
        /// Generate the admin's temporary password and print it (no invitation email).
        #[arg(long)]
        generate_temporary_password: bool,
        /// Tenants (User Pool providers) per Identity Pool: a pool with this many is full, and
        /// onboard puts the tenant in the next one, creating it when every pool is full.
        /// Cognito's default quota is 50 (adjustable up to 1,000 in Service Quotas: raise it
        /// there first).
        #[arg(
            long = "identity-pool-capacity",
            alias = "max-providers",
            env = "TENANTCTL_IDENTITY_POOL_CAPACITY",
            default_value_t = 50
        )]
        max_providers: usize,
        /// The name of a pool onboard creates [default: notes-<tenant-id>].
        #[arg(long)]
        pool_name: Option<String>,
        /// TOTP sign-in of the tenant's pool: off, optional (users may enrol an authenticator
        /// app) or required (every user, ADMINs included, signs in with one). A new pool gets
        /// optional without it; given, it is applied to an existing pool too.
        #[arg(long, value_parser = ["off", "optional", "required"])]
        mfa: Option<String>,
        /// The SES identity ARN a new pool sends its e-mail with (DEVELOPER). Without it,
        /// Cognito's own sender: 50 e-mails a day per account and region, all pools together.
        #[arg(long, env = "TENANTCTL_EMAIL_IDENTITY_ARN", default_value = "")]
        email_identity_arn: String,
        /// The From address of that e-mail (`Name <address>`); needs --email-identity-arn.
        #[arg(long, env = "TENANTCTL_EMAIL_FROM", default_value = "")]
        email_from: String,
    },
    /// Offboard a tenant: suspend it, end its open subscriptions, remove its providers from the
    /// Identity Pool, export its data, purge its partition, remove its registry entries and
    /// (with --delete-pool) its User Pool. Idempotent: run it again to finish an interrupted
    /// offboarding.
    Offboard {
        #[arg(long)]
        tenant_id: String,
        /// Write every item of the tenant to FILE (JSON Lines) before purging.
        #[arg(long, value_name = "FILE", required_unless_present = "discard_data")]
        export: Option<PathBuf>,
        /// Purge without an export.
        #[arg(long, conflicts_with = "export")]
        discard_data: bool,
        /// Delete the tenant's User Pool too (its users are gone for good).
        #[arg(long)]
        delete_pool: bool,
        /// The API's GraphQL endpoint (the stack's GraphQLUrl output): the tenant's open
        /// subscriptions are ended there (as `suspend` does). Without it they stay open until
        /// their connections end, and a subscriber of this tenant id would receive the notes of
        /// a tenant imported under it later.
        #[arg(long, env = "GRAPHQL_URL")]
        graphql_url: Option<String>,
        /// How long the functions may still admit the tenant from their cache: subscriptions
        /// opened meanwhile are ended after it (0: end them once, now).
        #[arg(long, env = "TENANT_CACHE_TTL_SECONDS", default_value_t = 60)]
        cache_ttl_seconds: u64,
    },
    /// Remove a user from their tenant: disable them in the tenant's User Pool, sign them out
    /// globally (refresh tokens revoked), end their open subscriptions, and delete them.
    /// Idempotent: run it again to finish an interrupted removal.
    RemoveUser {
        #[arg(long)]
        tenant_id: String,
        /// The user's username in the tenant's pool (onboard's pools: their email).
        #[arg(long)]
        username: String,
        /// Leave the user in the pool, disabled (AdminEnableUser brings them back).
        #[arg(long)]
        keep_disabled: bool,
        /// The API's GraphQL endpoint (the stack's GraphQLUrl output), where the user's
        /// subscriptions are ended (invalidateTenantSubscriptions with userSub).
        #[arg(long, env = "GRAPHQL_URL")]
        graphql_url: Option<String>,
    },
    /// Write every item of a tenant to FILE, one JSON line each (DynamoDB JSON).
    Export {
        #[arg(long)]
        tenant_id: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore an export into an empty tenant (partition keys, tenantId and public-index keys
    /// rewritten; every profile restored as a MEMBER, the counters to match: onboard's admin
    /// claims ADMIN at their first myProfile). Existing items are never overwritten; an
    /// interrupted import resumes when run again.
    Import {
        #[arg(long)]
        tenant_id: String,
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Also write into a tenant that already holds notes, profiles, counters or tokens: the
        /// export's items are added to that tenant's data (its PUBLIC notes become the tenant's
        /// public notes), and an item whose key exists stays as it is. Without it, a tenant that
        /// holds data is refused and nothing is written.
        #[arg(long)]
        into_existing: bool,
    },
    /// List every registered tenant's providers in the Identity Pool again (after a change to
    /// the Identity Pool's own settings by a deploy, for example), suspended tenants' too: the
    /// registry refuses those, and their providers must be there when they are resumed. Keeps
    /// every other provider.
    SyncIdentityPool {
        /// Tenants per Identity Pool (see onboard's --identity-pool-capacity).
        #[arg(
            long = "identity-pool-capacity",
            alias = "max-providers",
            env = "TENANTCTL_IDENTITY_POOL_CAPACITY",
            default_value_t = 50
        )]
        max_providers: usize,
    },
    /// Print the settings onboard gives a tenant's User Pool and app client, as Cognito API
    /// inputs (CreateUserPool, then SetUserPoolMfaConfig / CreateUserPoolClient) in JSON, with
    /// the default MFA (optional) and e-mail sender (Cognito's).
    PoolSettings,
    /// Refuse the tenant's users (Forbidden) until resumed, and end its open subscriptions.
    Suspend {
        #[arg(long)]
        tenant_id: String,
        /// The API's GraphQL endpoint (the stack's GraphQLUrl output): the tenant's open
        /// subscriptions are ended there (Mutation.invalidateTenantSubscriptions, signed with
        /// your AWS credentials; the stack's OperatorPolicy grants it). Without it they stay
        /// open until their connections end.
        #[arg(long, env = "GRAPHQL_URL")]
        graphql_url: Option<String>,
        /// How long the functions may still admit the tenant from their cache: subscriptions
        /// opened meanwhile are ended after it (0: end them once, now).
        #[arg(long, env = "TENANT_CACHE_TTL_SECONDS", default_value_t = 60)]
        cache_ttl_seconds: u64,
    },
    /// Serve a suspended tenant again, after checking that the Identity Pool lists its
    /// providers (restored if missing).
    Resume {
        #[arg(long)]
        tenant_id: String,
    },
    /// Make a user an ADMIN of its tenant (by identity id; onboard's first admin needs no
    /// grant, and later ones can be made with setRole).
    GrantAdmin {
        #[arg(long)]
        tenant_id: String,
        /// The user's Cognito identity id (`<region>:<guid>`, Query.me's identityId).
        #[arg(long)]
        identity_id: String,
    },
    /// Print every tenant with its providers, one JSON object per line.
    List,
    /// Print every Identity Pool the registry counts (number, tenants, ready), one JSON object
    /// per line, oldest first.
    IdentityPools,
    /// Per-tenant totals (invocations, errors, DynamoDB capacity, latency) from the functions'
    /// EMF log lines: the local stack's `.local/functions.log`, or lines exported from CloudWatch
    /// Logs. Reads files only; no AWS call.
    Usage {
        /// Log files to read (default: .local/functions.log).
        #[arg(long = "logs", value_name = "FILE")]
        logs: Vec<std::path::PathBuf>,
        /// Only invocations at or after this time: RFC 3339 (2026-11-25T10:00:00Z) or an age
        /// (90s, 15m, 2h, 1d).
        #[arg(long)]
        since: Option<String>,
    },
}

/// `--since` as milliseconds since the epoch.
fn since_ms(since: Option<&str>, now_ms: u64) -> Result<u64> {
    let Some(s) = since.map(str::trim) else {
        return Ok(0);
    };
    let age = |n: &str, unit: u64| {
        n.parse::<u64>()
            .ok()
            .map(|n| now_ms.saturating_sub(n.saturating_mul(unit)))
    };
    let relative = match s.char_indices().last() {
        Some((i, 's')) => age(&s[..i], 1_000),
        Some((i, 'm')) => age(&s[..i], 60_000),
        Some((i, 'h')) => age(&s[..i], 3_600_000),
        Some((i, 'd')) => age(&s[..i], 86_400_000),
        _ => None,
    };
    if let Some(ms) = relative {
        return Ok(ms);
    }
    let at = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            Error::Usage(format!(
                "--since {s}: expected RFC 3339 (2026-11-25T10:00:00Z) or an age (15m, 2h, 1d)"
            ))
        })?;
    Ok(u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))
}

fn usage(logs: &[std::path::PathBuf], since: Option<&str>) -> Result<()> {
    use shared::lambda::metrics::{now_ms, usage_by_tenant};
    let default = [std::path::PathBuf::from(".local/functions.log")];
    let files = if logs.is_empty() { &default[..] } else { logs };
    let mut text = String::new();
    for f in files {
        text.push_str(&std::fs::read_to_string(f).map_err(|e| {
            Error::Usage(format!(
                "{}: {e} (the local stack writes .local/functions.log)",
                f.display()
            ))
        })?);
        text.push('\n');
    }
    let totals = usage_by_tenant(text.lines(), since_ms(since, now_ms())?);
    println!(
        "{:<24} {:>11} {:>7} {:>14} {:>12}",
        "tenant", "invocations", "errors", "capacity (CU)", "mean ms"
    );
    for (tenant, u) in &totals {
        let mean = u.latency_ms_total / u.invocations.max(1) as f64;
        println!(
            "{tenant:<24} {:>11} {:>7} {:>14.1} {:>12.2}",
            u.invocations, u.errors, u.consumed_capacity, mean
        );
    }
    Ok(())
}

/// What the lifecycle commands work with.
pub struct Ctx {
    pub db: Admin,
    pub pools: UserPools,
    /// The stack's first Identity Pool (`IDENTITY_POOL_ID`): the guests' pool, the settings and
    /// roles every further pool copies.
    pub identity: IdentityPool,
    /// The authenticated role's trust lists every pool (`placement`).
    pub iam: aws_sdk_iam::Client,
    pub region: String,
    /// Every AWS call of this command, counted (onboard reports them).
    pub calls: calls::Calls,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    progress_on_stderr();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tenantctl: {e}");
            e.exit_code()
        }
    }
}

/// The store's progress lines for long waits (`create-table` adding an index to a large table),
/// on stderr: stdout is each command's output, which scripts read.
fn progress_on_stderr() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_level(false)
        .without_time();
    let _ =
        tracing_subscriber::registry()
            .with(layer.with_filter(
                Targets::new().with_target("shared::store::schema", LevelFilter::INFO),
            ))
            .try_init();
}

fn table(cli: &Cli) -> Result<String> {
    cli.table_name
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::Usage("set TABLE_NAME or pass --table-name".into()))
}

async fn context(cli: &Cli) -> Result<Ctx> {
    let identity_pool_id = cli
        .identity_pool_id
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::Usage("set IDENTITY_POOL_ID or pass --identity-pool-id".into()))?;
    let sdk = aws_config::load_from_env().await;
    let region = sdk
        .region()
        .map(|r| r.to_string())
        .ok_or_else(|| Error::Usage("set AWS_REGION (or a profile's region)".into()))?;
    let calls = calls::Calls::default();
    let ddb = shared::store::with_budget(aws_sdk_dynamodb::config::Builder::from(&sdk))
        .interceptor(calls.clone())
        .build();
    let db = Admin::new(shared::store::Db::new(
        aws_sdk_dynamodb::Client::from_conf(ddb),
        table(cli)?,
    ));
    Ok(Ctx {
        db,
        pools: UserPools::new(
            aws_sdk_cognitoidentityprovider::Client::from_conf(
                aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            region.clone(),
        ),
        identity: IdentityPool::new(
            aws_sdk_cognitoidentity::Client::from_conf(
                aws_sdk_cognitoidentity::config::Builder::from(&sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            identity_pool_id,
            Duration::from_millis(cli.settle_ms),
        ),
        iam: aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&sdk)
                .interceptor(calls.clone())
                .build(),
        ),
        region,
        calls,
    })
}

fn print_json(value: &impl Serialize) -> Result<()> {
    let line = serde_json::to_string(value).map_err(|e| AppError::internal("json", e))?;
    println!("{line}");
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Usage { logs, since } => usage(logs, since.as_deref()),
        Command::Onboard {
            tenant_id,
            name,
            admin_email,
            federated,
            shared_issuer,
            temporary_password,
            generate_temporary_password,
            max_providers,
            pool_name,
            mfa,
            email_identity_arn,
            email_from,
        } => {
            let mfa = mfa
                .as_deref()
                .map(|m| {
                    shared::pool_settings::Mfa::from_flag(m).ok_or_else(|| {
                        Error::Usage(format!("--mfa {m:?}: off, optional or required"))
                    })
                })
                .transpose()?;
            let email =
                shared::pool_settings::EmailSender::from_parameters(email_identity_arn, email_from)
                    .map_err(|e| {
                        Error::Usage(format!("--email-identity-arn / --email-from: {e}"))
                    })?;
            let req = onboard::Request::parse(
                tenant_id,
                name,
                admin_email,
                federated,
                *shared_issuer,
                temporary_password.clone(),
                *generate_temporary_password,
                *max_providers,
                pool_name.clone(),
            )?
            .with_pool_options(mfa, email);
            let ctx = context(&cli).await?;
            let report = onboard::run(&ctx, &req).await?;
            if cli.json {
                print_json(&report)
            } else {
                onboard::print(&report);
                Ok(())
            }
        }
        Command::Offboard {
            tenant_id,
            export,
            discard_data,
            delete_pool,
            graphql_url,
            cache_ttl_seconds,
        } => {
            let keep = match (export, discard_data) {
                (Some(path), false) => offboard::Keep::Export(path.clone()),
                (None, true) => offboard::Keep::Discard,
                _ => {
                    return Err(Error::Usage(
                        "give --export FILE, or --discard-data to purge without one".into(),
                    ));
                }
            };
            let req = offboard::Request {
                tenant: TenantId::parse(tenant_id)?,
                keep,
                delete_pool: *delete_pool,
                graphql_url: graphql_url.clone().filter(|u| !u.is_empty()),
                cache_ttl: Duration::from_secs(*cache_ttl_seconds),
            };
            let ctx = context(&cli).await?;
            let report = offboard::run(&ctx, &req).await?;
            if cli.json {
                print_json(&report)
            } else {
                offboard::print(&report);
                Ok(())
            }
        }
        Command::RemoveUser {
            tenant_id,
            username,
            keep_disabled,
            graphql_url,
        } => {
            if username.trim().is_empty() || username.len() > 128 {
                return Err(Error::Usage("--username must be 1-128 characters".into()));
            }
            let req = remove_user::Request {
                tenant: TenantId::parse(tenant_id)?,
                username: username.clone(),
                keep_disabled: *keep_disabled,
                graphql_url: graphql_url.clone().filter(|u| !u.is_empty()),
            };
            let ctx = context(&cli).await?;
            let report = remove_user::run(&ctx, &req).await?;
            if cli.json {
                print_json(&report)
            } else {
                remove_user::print(&report);
                Ok(())
            }
        }
        Command::Resume { tenant_id } => {
            let tenant = TenantId::parse(tenant_id)?;
            let ctx = context(&cli).await?;
            resume(&ctx, &tenant).await
        }
        Command::Export {
            tenant_id,
            out,
            force,
        } => {
            let tenant = TenantId::parse(tenant_id)?;
            let db = Admin::from_env(table(&cli)?).await;
            let n = portability::export_to_file(&db, &tenant, out, *force).await?;
            if cli.json {
                print_json(&serde_json::json!({
                    "tenantId": tenant.as_str(), "items": n, "file": out.display().to_string()
                }))
            } else {
                println!("exported {n} items of {tenant} to {}", out.display());
                Ok(())
            }
        }
        Command::Import {
            tenant_id,
            input,
            into_existing,
        } => {
            let tenant = TenantId::parse(tenant_id)?;
            let db = Admin::from_env(table(&cli)?).await;
            let target = if *into_existing {
                ImportTarget::ExistingData
            } else {
                ImportTarget::EmptyTenant
            };
            let summary = portability::import_from_file(&db, &tenant, input, target).await?;
            let registered = db.db().registry_get_tenant(&tenant).await?.is_some();
            if cli.json {
                print_json(&summary)?;
            } else {
                println!(
                    "imported {} items of {} into {}: {} written, {} already present (left as they were); \
                     {} ADMIN profile(s) restored as MEMBER",
                    summary.items,
                    summary.from_tenant,
                    summary.to_tenant,
                    summary.report.written,
                    summary.report.present,
                    summary.demoted_admins
                );
            }
            if !registered {
                eprintln!(
                    "note: {tenant} is not registered; onboard it (tenantctl onboard --tenant-id \
                     {tenant} ...) to serve this data"
                );
            }
            Ok(())
        }
        Command::SyncIdentityPool { max_providers } => {
            let ctx = context(&cli).await?;
            sync_identity_pool(&ctx, *max_providers).await
        }
        Command::PoolSettings => {
            use shared::pool_settings::{
                CLIENT, PoolOptions, SERVER_SIDE_TOKEN_CHECK, USER_POOL, mfa_config_input,
            };
            let options = PoolOptions::default();
            print_json(&serde_json::json!({
                "userPool": USER_POOL.create_input(&options),
                "userPoolMfaConfig": mfa_config_input(options.mfa),
                "userPoolClient": CLIENT.properties(),
                "serverSideTokenCheck": SERVER_SIDE_TOKEN_CHECK,
            }))
        }
        other => {
            let db = Admin::from_env(table(&cli)?).await;
            registry_command(&db, other).await.map_err(Error::from)
        }
    }
}

/// The Identity Pool entries of these tenants' providers: each User Pool with its `web`
/// client, each OIDC/SAML provider. Login-provider domains need their app id, which the registry
/// does not keep: those are reported for the operator to re-run onboard with `--federated`.
async fn additions_for(
    ctx: &Ctx,
    entries: &[shared::store::admin::RegistryEntry],
) -> Result<Additions> {
    let mut add = Additions::default();
    for entry in entries {
        for key in entry.providers.iter().map(|p| p.as_str().to_owned()) {
            if let Some(pool_id) = UserPools::pool_ids(std::slice::from_ref(&key)).pop() {
                match ctx.pools.find_client(&pool_id).await? {
                    Some(client_id) => add.user_pools.push(UserPoolProvider {
                        provider_name: key,
                        client_id,
                        server_side_token_check: Some(
                            shared::pool_settings::SERVER_SIDE_TOKEN_CHECK,
                        ),
                    }),
                    None => eprintln!(
                        "{}: pool {pool_id} has no web client; run tenantctl onboard for it",
                        entry.tenant.tenant_id
                    ),
                }
            } else if key.starts_with("arn:") {
                add.federated.push(Federated::parse(&key)?);
            } else {
                eprintln!(
                    "{}: {key} needs its app id; run tenantctl onboard --federated {key}=<app id>",
                    entry.tenant.tenant_id
                );
            }
        }
    }
    Ok(add)
}

/// Every registered tenant's providers, listed in the Identity Pool again. Suspended tenants'
/// included: suspension is the registry's job (their users are refused Forbidden), and a
/// provider missing from the Identity Pool when the tenant is resumed would lock its users out.
async fn sync_identity_pool(ctx: &Ctx, max_providers: usize) -> Result<()> {
    let entries = ctx.db.registry_list().await?;
    let first = ctx.identity.id().to_owned();
    // Every pool: those the registry counts, and any a tenant is bound to (the first for a
    // tenant from before the binding).
    let mut pools = ctx.db.pools_ids(&first).await?;
    for e in &entries {
        if let Some(id) = &e.tenant.identity_pool_id
            && !pools.contains(id)
        {
            pools.push(id.clone());
        }
    }
    // Each tenant's pool: its binding; else its placement (a run stopped before binding it);
    // else, registered before pools were counted, the first.
    let mut pool_of = Vec::with_capacity(entries.len());
    for e in &entries {
        pool_of.push(match &e.tenant.identity_pool_id {
            Some(id) => id.clone(),
            None => ctx
                .db
                .pools_placement(&e.tenant.tenant_id)
                .await?
                .unwrap_or_else(|| first.clone()),
        });
    }
    let capacity = u32::try_from(max_providers).unwrap_or(u32::MAX);
    for id in &pools {
        let tenants: Vec<_> = entries
            .iter()
            .zip(&pool_of)
            .filter(|(_, p)| *p == id)
            .map(|(e, _)| e.clone())
            .collect();
        let add = additions_for(ctx, &tenants).await?;
        let identity = ctx.identity.for_pool(id);
        let config = identity.add(&add, RESTORE_MAX_PROVIDERS).await?;
        // The registry's count follows the pool's list (the capacity check of the next
        // onboarding reads the count).
        let listed = u32::try_from(config.user_pool_count()).unwrap_or(u32::MAX);
        ctx.db.pools_recount(id, listed, capacity).await?;
        println!(
            "identity pool {id} lists {} User Pool providers ({} tenants; capacity {max_providers})",
            config.user_pool_count(),
            tenants.len()
        );
    }
    // The authenticated role trusts every pool the registry records.
    if ctx.db.pools_known().await? && pools.len() > 1 {
        let arn = placement::authenticated_role(ctx).await?;
        let n = placement::render_role_trust_leased(ctx, &arn).await?;
        println!("role {arn} trusts the {n} Identity Pools the registry records");
    }
    Ok(())
}

/// `resume`: the Identity Pool must list the tenant's providers (a sync-identity-pool of an
/// older tenantctl dropped suspended tenants', so they may be missing): verified, restored if
/// missing, then the tenant is ACTIVE again. Restoring first means a failed restore leaves the
/// tenant suspended, for the operator to run resume again.
async fn resume(ctx: &Ctx, tenant: &TenantId) -> Result<()> {
    let entry = ctx.db.registry_entry(tenant).await?.ok_or_else(|| {
        Error::App(AppError::NotFound(format!(
            "No tenant '{tenant}' is registered."
        )))
    })?;
    // The tenant's own pool: its binding, its placement, else (a tenant from before pools were
    // counted) the first.
    let own = match &entry.tenant.identity_pool_id {
        Some(id) => id.clone(),
        None => ctx
            .db
            .pools_placement(tenant)
            .await?
            .unwrap_or_else(|| ctx.identity.id().to_owned()),
    };
    let identity = ctx.identity.for_pool(&own);
    let add = additions_for(ctx, std::slice::from_ref(&entry)).await?;
    let listed = identity.describe().await?;
    if listed.holds_all(&add) {
        println!(
            "identity pool {} lists {tenant}'s {} provider(s)",
            identity.id(),
            add.user_pools.len() + add.federated.len()
        );
    } else {
        // Restoring a provider the tenant had does not count against a new tenant's room, but the
        // Identity Pool's quota still applies: Cognito's default.
        let after = identity.add(&add, RESTORE_MAX_PROVIDERS).await?;
        println!(
            "identity pool {}: restored {tenant}'s missing providers ({} User Pool providers listed)",
            identity.id(),
            after.user_pool_count()
        );
    }
    let rec = ctx
        .db
        .registry_set_status(tenant, TenantStatus::Active)
        .await?;
    println!("resumed {}", rec.tenant_id);
    Ok(())
}

/// The providers' limit `resume` restores within: Cognito's adjustable maximum, so a restore is
/// refused only by the Identity Pool itself (its quota error names the limit).
const RESTORE_MAX_PROVIDERS: usize = 1_000;

async fn registry_command(db: &Admin, command: &Command) -> Result<(), AppError> {
    match command {
        Command::BackfillIndexes { segments } => {
            let report = db
                .backfill_indexes(*segments, |r| {
                    eprint!(
                        "\rbackfill: {} items scanned, {} notes: {} written, {} right already, \
                         {} changed meanwhile, {} skipped; {} tenants' providers",
                        r.scanned, r.notes, r.updated, r.correct, r.changed, r.skipped, r.tenants
                    );
                })
                .await?;
            eprintln!();
            let line = serde_json::to_string(&report).map_err(|e| AppError::internal("json", e))?;
            println!("{line}");
        }
        Command::CreateTable => {
            let created = db.create_table().await?;
            let verb = if created {
                "created"
            } else {
                "already exists:"
            };
            println!("table {verb} {}", db.db().table_name());
        }
        Command::Register {
            tenant_id,
            name,
            provider,
            shared_issuer,
        } => {
            let id = TenantId::parse(tenant_id)?;
            let provider = ProviderKey::parse(provider)?;
            if let Some(issuer) = provider.shared_issuer()
                && !shared_issuer
            {
                return Err(AppError::Validation(format!(
                    "{issuer} is the same provider key for every account it signs in: registering \
                     it would admit all of them to tenant {id}. Federate it through the tenant's \
                     own User Pool and register the pool, or pass --shared-issuer if every \
                     {issuer} account really belongs to this tenant."
                )));
            }
            if name.trim().is_empty() || name.chars().count() > 200 {
                return Err(AppError::Validation(
                    "--name must be 1-200 characters.".into(),
                ));
            }
            db.registry_register(&id, name, &provider).await?;
            println!("registered {provider} -> {id}");
        }
        Command::Rename { tenant_id, name } => {
            let id = TenantId::parse(tenant_id)?;
            if name.trim().is_empty() || name.chars().count() > 200 {
                return Err(AppError::Validation(
                    "--name must be 1-200 characters.".into(),
                ));
            }
            let before =
                db.db().registry_get_tenant(&id).await?.ok_or_else(|| {
                    AppError::NotFound(format!("No tenant '{id}' is registered."))
                })?;
            db.registry_rename(&id, name).await?;
            println!("renamed {id}: '{}' -> '{name}'", before.name);
        }
        Command::Suspend {
            tenant_id,
            graphql_url,
            cache_ttl_seconds,
        } => {
            let id = TenantId::parse(tenant_id)?;
            let rec = db.registry_set_status(&id, TenantStatus::Suspended).await?;
            println!("suspended {}", rec.tenant_id);
            let ttl = Duration::from_secs(*cache_ttl_seconds);
            subscriptions::end(graphql_url.as_deref(), &id, ttl).await?;
        }
        Command::GrantAdmin {
            tenant_id,
            identity_id,
        } => {
            let id = TenantId::parse(tenant_id)?;
            let user = profiles::parse_identity_arg(identity_id)?;
            // Uncached: an operator acts on the registry as it is now.
            let tenant = TenantRegistry::new(db.db().clone(), Duration::ZERO)
                .active_by_id(&id)
                .await?;
            let store = TenantStore::new(db.db().clone(), tenant);
            let profile = store.grant_admin(&user, &notes::now_timestamp()).await?;
            println!("{} is ADMIN of {id}", profile.identity_id);
        }
        Command::IdentityPools => {
            for pool in db.pools_list().await? {
                let line =
                    serde_json::to_string(&pool).map_err(|e| AppError::internal("json", e))?;
                println!("{line}");
            }
        }
        Command::List => {
            for entry in db.registry_list().await? {
                let line =
                    serde_json::to_string(&entry).map_err(|e| AppError::internal("json", e))?;
                println!("{line}");
            }
        }
        Command::Onboard { .. }
        | Command::Offboard { .. }
        | Command::RemoveUser { .. }
        | Command::Resume { .. }
        | Command::Export { .. }
        | Command::Import { .. }
        | Command::SyncIdentityPool { .. }
        | Command::Usage { .. }
        | Command::PoolSettings => {
            return Err(AppError::Internal(
                "a lifecycle command reached the registry dispatcher".into(),
            ));
        }
    }
    Ok(())
}
