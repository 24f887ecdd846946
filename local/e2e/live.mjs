// Shared helpers of the live-stack tests (local/e2e/*.e2e.mjs): they need the stack
// scripts/local.sh starts and find it through .local/outputs.json only (OUTPUTS overrides the path).
// The file names end in .e2e.mjs, which `node --test resolvers/ local/` (scripts/test.sh, no
// stack) does not pick up; scripts/local.sh --check runs them by name.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { AdminInitiateAuthCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CognitoIdentityClient, GetCredentialsForIdentityCommand, GetIdCommand } from '@aws-sdk/client-cognito-identity';
import { SignatureV4 } from '@smithy/signature-v4';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const outputs = JSON.parse(readFileSync(process.env.OUTPUTS ?? join(ROOT, '.local', 'outputs.json'), 'utf8'));
export const region = outputs.region;
export const tenant = (id) => outputs.tenants.find((t) => t.tenantId === id);
/**
 * The Identity Pool a tenant's users get credentials from: its own (tenants live in several),
 * else the top-level one. Guests always use the top-level one, the stack's first pool.
 */
export const identityPoolOf = (t) => t?.identityPoolId ?? outputs.identityPoolId;
export const providerOf = (userPoolId) => `cognito-idp.${region}.amazonaws.com/${userPoolId}`;

// Admin calls (moto accepts any signing key); the data-plane calls below go unsigned, as Amplify's do.
const adminCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };
export const idp = new CognitoIdentityProviderClient({ region, endpoint: outputs.cognitoIdpEndpoint, credentials: adminCredentials });
export const identityAdmin = new CognitoIdentityClient({ region, endpoint: outputs.cognitoIdentityEndpoint, credentials: adminCredentials, maxAttempts: 1 });
export const identity = new CognitoIdentityClient({ region, endpoint: outputs.cognitoIdentityEndpoint, maxAttempts: 1 });

/**
 * Signs a user in and returns the pool's tokens. The tests act as the pool's admin
 * (AdminInitiateAuth with the password): they test what happens to tokens, not sign-in itself,
 * which signin_check.py does with SRP as a client would. (Real Cognito would also want
 * ALLOW_ADMIN_USER_PASSWORD_AUTH on the client; moto does not check.)
 */
export async function signIn(pool, user, clientId = pool.userPoolClientId) {
  const out = await idp.send(new AdminInitiateAuthCommand({
    UserPoolId: pool.userPoolId,
    ClientId: clientId,
    AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
    AuthParameters: { USERNAME: user.username, PASSWORD: user.password },
  }));
  return out.AuthenticationResult;
}

/** Credentials from the tenant's Identity Pool for a signed-in user ({ IdentityId, Credentials }). */
export async function credentialsFor(pool, user) {
  const { IdToken } = await signIn(pool, user);
  const Logins = { [providerOf(pool.userPoolId)]: IdToken };
  const { IdentityId } = await identity.send(new GetIdCommand({ IdentityPoolId: identityPoolOf(pool), Logins }));
  return identity.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins }));
}

/** Guest credentials (GetId without Logins) from the top-level Identity Pool, the guests' one. */
export async function guestCredentials() {
  const { IdentityId } = await identity.send(new GetIdCommand({ IdentityPoolId: outputs.identityPoolId }));
  return identity.send(new GetCredentialsForIdentityCommand({ IdentityId }));
}

/**
 * A GraphQL POST signed with AWS's signer the way Amplify's GraphQL client signs it
 * (content-type;host;x-amz-date;x-amz-security-token;x-amz-user-agent).
 *   creds: { AccessKeyId, SecretKey, SessionToken } as GetCredentialsForIdentity answers
 */
export async function signedGraphql(creds, query, variables = {}, { region: signRegion = region, service = 'appsync', signingDate = new Date() } = {}) {
  const url = new URL(outputs.graphqlUrl);
  const body = JSON.stringify({ query, variables });
  const signer = new SignatureV4({
    credentials: { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretKey, sessionToken: creds.SessionToken },
    region: signRegion,
    service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers: { 'content-type': 'application/json; charset=UTF-8', host: url.host, 'x-amz-user-agent': 'aws-amplify/6.0.0 api/1 framework/0' },
    body,
  }, { signingDate });
  return { url: url.href, headers: signed.headers, body };
}

export async function post({ url, headers, body }) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json };
}

/** How many function invocations the endpoint has made so far. */
export async function invocations() {
  const res = await fetch(new URL('/__local/invocations', outputs.graphqlUrl));
  return (await res.json()).invocations;
}
