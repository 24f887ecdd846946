#!/usr/bin/env node
// The local sign-in chain in moto, through the real AWS SDK, around `tenantctl onboard` — which
// onboards the demo tenants exactly as an operator onboards a tenant on AWS (scripts/local.sh):
//
//   node local/cognito-setup.mjs stack --moto URL --graphql-url URL \
//        --cognito-identity-endpoint URL --out FILE
//     Seeds moto's ids, creates the Identity Pool (template.yaml's flags, no providers: onboard
//     adds them) and the `outsider` User Pool (onboard's pool settings, `tenantctl
//     pool-settings`; not listed, not registered) with its user. FILE gets the stack's outputs
//     with no tenants yet.
//   node local/cognito-setup.mjs demo-tenants
//     Prints "tenantId<TAB>name<TAB>admin email<TAB>admin password" per demo tenant, for
//     `tenantctl onboard --temporary-password`.
//   node local/cognito-setup.mjs users --moto URL --outputs FILE ONBOARD_JSON...
//     After onboard (its --json reports): gives each admin a permanent password, adds the other
//     demo users, and writes the tenants into FILE.
//
// FILE has the shape of .local/outputs.json (scripts/local.sh moves it there once everything is
// up; scripts/outputs.sh writes the same shape from a deployed stack):
//   { region, graphqlUrl, identityPoolId, allowGuests, cognitoIdpEndpoint (moto),
//     cognitoIdentityEndpoint (ours), tenants: [{ tenantId, userPoolId, userPoolClientId,
//     identityPoolId, users }], outsider: { userPoolId, userPoolClientId, users } }
//   (outsider: for refusal tests only). Each tenant's identityPoolId is the Identity Pool its
//   users get credentials from (its onboard report's); the top-level identityPoolId is the
//   stack's first pool, which serves guests and any tenant entry without its own.
//
// moto's random ids are seeded first, and every later call comes in the same order on every
// start, so the same calls give the same pool, client, user and Identity Pool ids each time: a
// persisted DynamoDB (--persist) keeps matching the pools, and users keep their identity ids
// (and so their notes) across restarts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CognitoIdentityClient, CreateIdentityPoolCommand } from '@aws-sdk/client-cognito-identity';
import { DEMO_TENANTS, OUTSIDER, REGION } from './identities.mjs';
import { identityPoolSettings, loadTemplate } from './wiring.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MOTO_SEED = 20240611;
const STACK = 'notes-local';
// Any key signs for moto; the region is the stack's.
const clientConfig = (endpoint) => ({ region: REGION, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

const USAGE = 'usage: cognito-setup.mjs stack --moto URL --graphql-url URL --cognito-identity-endpoint URL --out FILE\n'
  + '       cognito-setup.mjs demo-tenants\n'
  + '       cognito-setup.mjs users --moto URL --outputs FILE ONBOARD_JSON...\n'
  + 'The local stack\'s Cognito set-up at moto (scripts/local.sh runs it).';

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const opts = { command, files: [] };
  const flags = { '--moto': 'moto', '--out': 'out', '--outputs': 'outputs', '--graphql-url': 'graphqlUrl', '--cognito-identity-endpoint': 'identityEndpoint' };
  for (let i = 0; i < rest.length; i++) {
    if (flags[rest[i]]) opts[flags[rest[i]]] = rest[++i];
    else if (rest[i].startsWith('--')) throw new Error(`unknown argument ${rest[i]}`);
    else opts.files.push(rest[i]);
  }
  const need = { stack: ['moto', 'out', 'graphqlUrl', 'identityEndpoint'], 'demo-tenants': [], users: ['moto', 'outputs'] }[command];
  if (!need || need.some((k) => !opts[k])) {
    throw new Error(USAGE);
  }
  return opts;
}

/** The settings onboard gives every tenant pool (one definition, in Rust). */
function poolSettings() {
  const out = execFileSync(join(ROOT, 'target', 'debug', 'tenantctl'), ['pool-settings'], { encoding: 'utf8' });
  return JSON.parse(out);
}

/** A user with a permanent password (created if missing), as a demo user signs in. */
async function ensureUser(idp, userPoolId, u) {
  try {
    await idp.send(new AdminCreateUserCommand({
      UserPoolId: userPoolId,
      Username: u.username,
      UserAttributes: [{ Name: 'email', Value: u.username }, { Name: 'email_verified', Value: 'true' }],
      MessageAction: 'SUPPRESS',
    }));
  } catch (e) {
    if (e.name !== 'UsernameExistsException') throw e;
  }
  await idp.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: u.username, Password: u.password, Permanent: true }));
}

const demoUser = ({ username, password, name }) => ({ username, password, name });

export async function stack(motoUrl) {
  const idp = new CognitoIdentityProviderClient(clientConfig(motoUrl));
  const identity = new CognitoIdentityClient(clientConfig(motoUrl));
  const seeded = await fetch(`${motoUrl}/moto-api/seed?a=${MOTO_SEED}`, { method: 'POST' });
  if (!seeded.ok) throw new Error(`moto refused the seed: ${seeded.status}`);

  const pool = await identity.send(new CreateIdentityPoolCommand({
    IdentityPoolName: `${STACK.replace(/-/g, '_')}_identities`,
    ...identityPoolSettings(loadTemplate(ROOT)),
  }));

  const settings = poolSettings();
  const { UserPool } = await idp.send(new CreateUserPoolCommand({ ...settings.userPool, PoolName: `${STACK}-${OUTSIDER.name}` }));
  const { UserPoolClient } = await idp.send(new CreateUserPoolClientCommand({ ...settings.userPoolClient, UserPoolId: UserPool.Id }));
  for (const u of OUTSIDER.users) await ensureUser(idp, UserPool.Id, u);
  return {
    identityPoolId: pool.IdentityPoolId,
    allowGuests: pool.AllowUnauthenticatedIdentities,
    outsider: { userPoolId: UserPool.Id, userPoolClientId: UserPoolClient.ClientId, users: OUTSIDER.users.map(demoUser) },
  };
}

/** The demo tenants' users, after `tenantctl onboard --json` made their pools and admins. */
export async function users(motoUrl, reports) {
  const idp = new CognitoIdentityProviderClient(clientConfig(motoUrl));
  const tenants = [];
  for (const t of DEMO_TENANTS) {
    const report = reports.find((r) => r.tenantId === t.tenantId);
    if (!report) throw new Error(`no onboard report for ${t.tenantId}`);
    // The admin's first password change, done for them: onboard set the demo password as the
    // temporary one; a real admin sets their own at first sign-in.
    for (const u of [...t.users, t.admin]) await ensureUser(idp, report.userPoolId, u);
    tenants.push({
      tenantId: t.tenantId,
      userPoolId: report.userPoolId,
      userPoolClientId: report.userPoolClientId,
      identityPoolId: report.identityPoolId,
      users: [...t.users, t.admin].map(demoUser),
    });
  }
  return tenants;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.slice(2).some((a) => a === '-h' || a === '--help')) {
    console.log(USAGE);
    process.exit(0);
  }
  const opts = parseArgs(process.argv.slice(2));
  if (opts.command === 'stack') {
    const s = await stack(opts.moto);
    const outputs = {
      region: REGION,
      graphqlUrl: opts.graphqlUrl,
      identityPoolId: s.identityPoolId,
      allowGuests: s.allowGuests,
      cognitoIdpEndpoint: opts.moto,
      cognitoIdentityEndpoint: opts.identityEndpoint,
      tenants: [],
      outsider: s.outsider,
    };
    writeFileSync(opts.out, `${JSON.stringify(outputs, null, 2)}\n`);
  } else if (opts.command === 'demo-tenants') {
    for (const t of DEMO_TENANTS) console.log([t.tenantId, t.name, t.admin.username, t.admin.password].join('\t'));
  } else {
    const reports = opts.files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
    const outputs = JSON.parse(readFileSync(opts.outputs, 'utf8'));
    outputs.tenants = await users(opts.moto, reports);
    writeFileSync(opts.outputs, `${JSON.stringify(outputs, null, 2)}\n`);
  }
}
