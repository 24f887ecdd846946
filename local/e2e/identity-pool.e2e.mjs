// The local Identity Pool against the real AWS SDK (@aws-sdk/client-cognito-identity): every
// login token is checked as Cognito checks it, and refusals are NotAuthorizedException.
// Needs the live stack (scripts/local.sh); run: node --test local/e2e/identity-pool.e2e.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { CreateUserPoolClientCommand, DeleteUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DescribeIdentityPoolCommand, GetCredentialsForIdentityCommand, GetIdCommand, UpdateIdentityPoolCommand } from '@aws-sdk/client-cognito-identity';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { identity, identityAdmin, identityPoolOf, idp, outputs, providerOf, signIn, tenant } from './live.mjs';

const acme = tenant('acme');
const globex = tenant('globex');
const [alice] = acme.users;
const [bob] = globex.users;
const { outsider } = outputs;

// A token under a tenant's provider key goes to that tenant's Identity Pool (its own, else the
// top-level one); guests and any other key (the outsider's) to the top-level one.
const poolFor = (Logins) => identityPoolOf(outputs.tenants.find((t) => Logins && providerOf(t.userPoolId) in Logins));
const getId = (Logins) => identity.send(new GetIdCommand({ IdentityPoolId: poolFor(Logins), ...(Logins ? { Logins } : {}) }));
const getCredentials = (IdentityId, Logins) => identity.send(new GetCredentialsForIdentityCommand({ IdentityId, ...(Logins ? { Logins } : {}) }));

async function notAuthorized(promise, message) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, 'NotAuthorizedException', `${e.name}: ${e.message}`);
    assert.equal(e.$metadata.httpStatusCode, 400);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** A token with `claims`, signed RS256 by `key` under moto's key id (so only the signature differs). */
const forge = (claims, key) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'dummy' }).sign(key);

test('alice gets the same identity on every sign-in, and fresh temporary keys each time', async () => {
  const first = { [providerOf(acme.userPoolId)]: (await signIn(acme, alice)).IdToken };
  const second = { [providerOf(acme.userPoolId)]: (await signIn(acme, alice)).IdToken };
  const a = await getId(first);
  const b = await getId(second);
  assert.match(a.IdentityId, /^eu-central-1:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(a.IdentityId, b.IdentityId);
  const c1 = await getCredentials(a.IdentityId, first);
  const c2 = await getCredentials(a.IdentityId, second);
  assert.equal(c1.IdentityId, a.IdentityId);
  assert.match(c1.Credentials.AccessKeyId, /^ASIA[A-Z0-9]{16}$/);
  assert.notEqual(c1.Credentials.AccessKeyId, c2.Credentials.AccessKeyId);
  assert.ok(c1.Credentials.SecretKey && c1.Credentials.SessionToken);
  const ttl = c1.Credentials.Expiration.getTime() - Date.now();
  assert.ok(ttl > 3500_000 && ttl <= 3600_000, `expires in ${ttl} ms`);
  // bob (globex) is another identity.
  const bobId = await getId({ [providerOf(globex.userPoolId)]: (await signIn(globex, bob)).IdToken });
  assert.notEqual(bobId.IdentityId, a.IdentityId);
});

test('a token of a User Pool the Identity Pool does not list is refused', async () => {
  const { IdToken } = await signIn(outsider, outsider.users[0]);
  await notAuthorized(getId({ [providerOf(outsider.userPoolId)]: IdToken }), /not from a supported provider/);
});

test('a token presented under another pool\'s provider key is refused (issuer)', async () => {
  // moto signs every pool's tokens with one key, so only the issuer check can catch this.
  const { IdToken } = await signIn(outsider, outsider.users[0]);
  await notAuthorized(getId({ [providerOf(acme.userPoolId)]: IdToken }), /Issuer doesn't match providerName/);
});

test('a token issued to another app client of the same pool is refused (aud)', async () => {
  const { UserPoolClient } = await idp.send(new CreateUserPoolClientCommand({ UserPoolId: acme.userPoolId, ClientName: 'not-the-web-client', GenerateSecret: false }));
  try {
    const { IdToken } = await signIn(acme, alice, UserPoolClient.ClientId);
    assert.equal(decodeJwt(IdToken).aud, UserPoolClient.ClientId);
    await notAuthorized(getId({ [providerOf(acme.userPoolId)]: IdToken }), /Incorrect token audience/);
  } finally {
    await idp.send(new DeleteUserPoolClientCommand({ UserPoolId: acme.userPoolId, ClientId: UserPoolClient.ClientId }));
  }
});

test('expired tokens and tokens signed by any other key are refused', async () => {
  const genuine = decodeJwt((await signIn(acme, alice)).IdToken);
  const login = (token) => ({ [providerOf(acme.userPoolId)]: token });
  const now = Math.floor(Date.now() / 1000);
  const { privateKey } = await generateKeyPair('RS256');
  // Expired, signed with a fresh key.
  await notAuthorized(getId(login(await forge({ ...genuine, iat: now - 7200, exp: now - 3600 }, privateKey))));
  // Genuine-looking and current, signed with a fresh key.
  await notAuthorized(getId(login(await forge({ ...genuine, iat: now, exp: now + 3600 }, privateKey))), /Couldn't verify signed token/);
  // Expired but signed with the pool's own key, so only `exp` is wrong: moto ships its private
  // key (RSA n/e/d only, which WebCrypto cannot import), so moto's own JOSE library signs it.
  const poolSigned = (claims) => execFileSync('python3', ['-c', `
import gzip, json, os, sys
import moto.cognitoidp as c
from joserfc import jwk, jwt
key = jwk.import_key(json.load(gzip.open(os.path.join(os.path.dirname(c.__file__), "resources", "jwks-private.json.gz"))))
print(jwt.encode({"alg": "RS256", "kid": "dummy"}, json.loads(sys.argv[1]), key))
`, JSON.stringify(claims)], { encoding: 'utf8' }).trim();
  await notAuthorized(getId(login(poolSigned({ ...genuine, iat: now - 7200, exp: now - 3600 }))), /^Invalid login token\. Token expired: \d+ >= \d+$/);
  // The same key with a current exp passes: the refusal above was the expiry alone.
  await getId(login(poolSigned({ ...genuine, iat: now, exp: now + 600 })));
});

test('an access token is not an id token', async () => {
  const { AccessToken } = await signIn(acme, alice);
  await notAuthorized(getId({ [providerOf(acme.userPoolId)]: AccessToken }), /Not a valid OpenId Connect identity token/);
});

test('guests get their own identity and cannot take a user\'s', async () => {
  const guest = await getId();
  const creds = await getCredentials(guest.IdentityId);
  assert.match(creds.Credentials.AccessKeyId, /^ASIA/);
  const aliceLogins = { [providerOf(acme.userPoolId)]: (await signIn(acme, alice)).IdToken };
  const aliceId = (await getId(aliceLogins)).IdentityId;
  await notAuthorized(getCredentials(aliceId), /Logins don't match/);
  // bob's valid login does not open alice's identity.
  await notAuthorized(getCredentials(aliceId, { [providerOf(globex.userPoolId)]: (await signIn(globex, bob)).IdToken }), /Logins don't match/);
});

test('the pool configuration is read from moto on every call: UpdateIdentityPool takes effect at once', async () => {
  // Through the Identity endpoint, which hands control-plane calls to moto unchanged.
  const original = await identityAdmin.send(new DescribeIdentityPoolCommand({ IdentityPoolId: outputs.identityPoolId }));
  const here = outputs.tenants.filter((t) => identityPoolOf(t) === outputs.identityPoolId);
  assert.deepEqual(original.CognitoIdentityProviders.map((p) => p.ProviderName).sort(), here.map((t) => providerOf(t.userPoolId)).sort());
  const { $metadata, ...config } = original;
  void $metadata;
  const outsiderLogins = { [providerOf(outsider.userPoolId)]: (await signIn(outsider, outsider.users[0])).IdToken };
  try {
    // A tenant onboarded later: the outsider's pool is listed and its users get in, no restart.
    await identityAdmin.send(new UpdateIdentityPoolCommand({
      ...config,
      CognitoIdentityProviders: [...config.CognitoIdentityProviders, { ProviderName: providerOf(outsider.userPoolId), ClientId: outsider.userPoolClientId, ServerSideTokenCheck: true }],
    }));
    assert.match((await getId(outsiderLogins)).IdentityId, /^eu-central-1:/);
    // Guests switched off: refused at once.
    await identityAdmin.send(new UpdateIdentityPoolCommand({ ...config, AllowUnauthenticatedIdentities: false }));
    await notAuthorized(getId(), /^Unauthenticated access is not supported for this identity pool\.$/);
  } finally {
    await identityAdmin.send(new UpdateIdentityPoolCommand(config));
  }
  await notAuthorized(getId(outsiderLogins));
  await getId();
});

test('an unknown Identity Pool is ResourceNotFoundException', async () => {
  await assert.rejects(identity.send(new GetIdCommand({ IdentityPoolId: 'eu-central-1:00000000-0000-4000-8000-000000000000' })), { name: 'ResourceNotFoundException' });
});
