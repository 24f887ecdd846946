#!/usr/bin/env node
// Creates the local sign-in chain in moto through the real AWS SDK, as a deployment would:
// one User Pool + app client per demo tenant with template.yaml's pool and client settings, the
// demo users (email as username, permanent password), an `outsider` pool the Identity Pool does
// not list, and the Identity Pool listing the tenants' pools.
//
//   node local/cognito-setup.mjs --moto http://127.0.0.1:5000 --graphql-url URL \
//        --cognito-identity-endpoint URL --out FILE
//
// FILE gets the stack's outputs in the shape of .local/outputs.json (scripts/local.sh moves it
// there once everything is up; scripts/outputs.sh writes the same shape from a deployed stack):
//   { region, graphqlUrl, identityPoolId, allowGuests, cognitoIdpEndpoint (moto),
//     cognitoIdentityEndpoint (ours), tenants: [{ tenantId, userPoolId, userPoolClientId, users }],
//     outsider: { userPoolId, userPoolClientId, users } }   (outsider: for refusal tests only)
// stdout gets "tenantId<TAB>name<TAB>provider" lines for `tenantctl register`.
//
// moto's random ids are seeded first, so the same calls give the same pool, client, user and
// Identity Pool ids on every run: a persisted DynamoDB (--persist) keeps matching the pools, and
// users keep their identity ids (and so their notes) across restarts.
import { writeFileSync } from 'node:fs';
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
import { DEMO_TENANTS, OUTSIDER, REGION, providerKey } from './identities.mjs';
import { cognitoSettings, loadTemplate } from './wiring.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MOTO_SEED = 20240611;
const STACK = 'notes-local';

function parseArgs(argv) {
  const opts = { moto: null, out: null, graphqlUrl: null, identityEndpoint: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--moto') opts.moto = argv[++i];
    else if (argv[i] === '--out') opts.out = argv[++i];
    else if (argv[i] === '--graphql-url') opts.graphqlUrl = argv[++i];
    else if (argv[i] === '--cognito-identity-endpoint') opts.identityEndpoint = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!opts.moto || !opts.out || !opts.graphqlUrl || !opts.identityEndpoint) {
    throw new Error('usage: cognito-setup.mjs --moto URL --graphql-url URL --cognito-identity-endpoint URL --out FILE');
  }
  return opts;
}

export async function setup(motoUrl) {
  // Any key signs for moto; the region is the stack's.
  const clientConfig = { region: REGION, endpoint: motoUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const idp = new CognitoIdentityProviderClient(clientConfig);
  const identity = new CognitoIdentityClient(clientConfig);
  const settings = cognitoSettings(loadTemplate(ROOT));

  const seeded = await fetch(`${motoUrl}/moto-api/seed?a=${MOTO_SEED}`, { method: 'POST' });
  if (!seeded.ok) throw new Error(`moto refused the seed: ${seeded.status}`);

  async function createPool(name, { userPool, client, users }) {
    const { UserPool } = await idp.send(new CreateUserPoolCommand({ ...settings.userPool(userPool), PoolName: `${STACK}-${name}` }));
    const { UserPoolClient } = await idp.send(new CreateUserPoolClientCommand({ ...settings.userPoolClient(client), UserPoolId: UserPool.Id }));
    for (const u of users) {
      await idp.send(new AdminCreateUserCommand({
        UserPoolId: UserPool.Id,
        Username: u.username,
        UserAttributes: [{ Name: 'email', Value: u.username }, { Name: 'email_verified', Value: 'true' }],
        MessageAction: 'SUPPRESS',
      }));
      await idp.send(new AdminSetUserPasswordCommand({ UserPoolId: UserPool.Id, Username: u.username, Password: u.password, Permanent: true }));
    }
    return {
      userPoolId: UserPool.Id,
      userPoolClientId: UserPoolClient.ClientId,
      users: users.map(({ username, password, name: short }) => ({ username, password, name: short })),
    };
  }

  const tenants = [];
  for (const t of DEMO_TENANTS) tenants.push({ tenantId: t.tenantId, ...(await createPool(t.tenantId, t)) });
  const outsider = await createPool(OUTSIDER.name, OUTSIDER);

  // Each tenant's pool, trusted with the ServerSideTokenCheck its template counterpart has.
  const tokenCheck = new Map(settings.identityPool.providers.map((p) => [p.userPool, p.ServerSideTokenCheck]));
  const pool = await identity.send(new CreateIdentityPoolCommand({
    IdentityPoolName: `${STACK.replace(/-/g, '_')}_identities`,
    AllowUnauthenticatedIdentities: settings.identityPool.AllowUnauthenticatedIdentities,
    AllowClassicFlow: settings.identityPool.AllowClassicFlow,
    CognitoIdentityProviders: tenants.map((t, i) => ({
      ProviderName: providerKey(t.userPoolId),
      ClientId: t.userPoolClientId,
      ServerSideTokenCheck: tokenCheck.get(DEMO_TENANTS[i].userPool) ?? true,
    })),
  }));

  return {
    identityPoolId: pool.IdentityPoolId,
    allowGuests: pool.AllowUnauthenticatedIdentities,
    tenants,
    outsider,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const stack = await setup(opts.moto);
  const outputs = {
    region: REGION,
    graphqlUrl: opts.graphqlUrl,
    identityPoolId: stack.identityPoolId,
    allowGuests: stack.allowGuests,
    cognitoIdpEndpoint: opts.moto,
    cognitoIdentityEndpoint: opts.identityEndpoint,
    tenants: stack.tenants,
    outsider: stack.outsider,
  };
  writeFileSync(opts.out, `${JSON.stringify(outputs, null, 2)}\n`);
  stack.tenants.forEach((t, i) => console.log([t.tenantId, DEMO_TENANTS[i].name, providerKey(t.userPoolId)].join('\t')));
}
