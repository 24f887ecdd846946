// The GraphQL endpoint's AWS_IAM door against the live stack: requests signed with Identity Pool
// credentials by AWS's signer are served as that identity; everything else is refused with
// AppSync's status and body before any function runs (the invocation counter does not move).
// Needs the live stack (scripts/local.sh); run: node --test local/e2e/graphql-auth.e2e.mjs
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsFor, guestCredentials, invocations, outputs, post, signedGraphql, tenant } from './live.mjs';

const acme = tenant('acme');
let alice; // { IdentityId, Credentials }
let guest;

before(async () => {
  alice = await credentialsFor(acme, acme.users[0]);
  guest = await guestCredentials();
});

const ME = '{ me { identityId tenantId provider } }';

/** Sends `request` and checks it is refused with `status` and exactly AppSync's body, invoking nothing. */
async function refused(request, status, errorType, message) {
  const before = await invocations();
  const r = await post(request);
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.headers.get('x-amzn-errortype'), errorType);
  assert.deepEqual(Object.keys(r.body), ['errors']);
  assert.equal(r.body.errors.length, 1);
  assert.deepEqual(Object.keys(r.body.errors[0]).sort(), ['errorType', 'message']);
  assert.equal(r.body.errors[0].errorType, errorType);
  assert.match(r.body.errors[0].message, message);
  assert.equal(await invocations(), before, 'a refused request invoked a function');
}

test('alice\'s signed request is served as her Identity Pool identity', async () => {
  const before = await invocations();
  const r = await post(await signedGraphql(alice.Credentials, ME));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.data.me, { identityId: alice.IdentityId, tenantId: 'acme', provider: `cognito-idp.${outputs.region}.amazonaws.com/${acme.userPoolId}` });
  assert.equal(await invocations(), before + 1);
});

test('a wrong secret is InvalidSignatureException', async () => {
  const req = await signedGraphql({ ...alice.Credentials, SecretKey: `${alice.Credentials.SecretKey.slice(0, -4)}AAAA` }, ME);
  await refused(req, 403, 'InvalidSignatureException', /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\n\nThe Canonical String for this request should have been\n'POST\n\/graphql\n/);
});

test('a body changed after signing is InvalidSignatureException', async () => {
  const req = await signedGraphql(alice.Credentials, ME);
  await refused({ ...req, body: req.body.replace('tenantId', 'identityId') }, 403, 'InvalidSignatureException', /^The request signature we calculated does not match/);
});

test('an X-Amz-Date more than 5 minutes old is BadRequestException "Signature expired"', async () => {
  const req = await signedGraphql(alice.Credentials, ME, {}, { signingDate: new Date(Date.now() - 10 * 60_000) });
  await refused(req, 400, 'BadRequestException', /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
});

test('an unknown access key and a session token that is not the key\'s are UnrecognizedClientException', async () => {
  const unknown = await signedGraphql({ ...alice.Credentials, AccessKeyId: 'ASIAZZZZZZZZZZZZZZZZ' }, ME);
  await refused(unknown, 403, 'UnrecognizedClientException', /^The security token included in the request is invalid\.$/);
  const otherToken = await signedGraphql({ ...alice.Credentials, SessionToken: guest.Credentials.SessionToken }, ME);
  await refused(otherToken, 403, 'UnrecognizedClientException', /^The security token included in the request is invalid\.$/);
});

test('no signature at all is refused before anything runs', async () => {
  const req = await signedGraphql(alice.Credentials, ME);
  const headers = { 'content-type': 'application/json' };
  await refused({ ...req, headers }, 403, 'MissingAuthenticationTokenException', /^Missing Authentication Token$/);
  // An id token where a signature belongs (a common mistake with AWS_IAM APIs).
  await refused({ ...req, headers: { ...headers, authorization: 'eyJraWQiOiJkdW1teSIsImFsZyI6IlJTMjU2In0.e30.c2ln' } }, 403, 'IncompleteSignatureException', /^Authorization header requires 'Credential' parameter\. Authorization header requires 'Signature' parameter\. Authorization header requires 'SignedHeaders' parameter\. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header\. Authorization=eyJ/);
});

test('a credential scoped to another region or service is InvalidSignatureException', async () => {
  await refused(await signedGraphql(alice.Credentials, ME, {}, { region: 'us-east-1' }), 403, 'InvalidSignatureException', /^Credential should be scoped to a valid region, not 'us-east-1'\. $/);
  await refused(await signedGraphql(alice.Credentials, ME, {}, { service: 'execute-api' }), 403, 'InvalidSignatureException', /^Credential should be scoped to correct service: 'appsync'\. $/);
});

test('a guest is refused notes by the guest role, before any function runs', async () => {
  const before = await invocations();
  const r = await post(await signedGraphql(guest.Credentials, '{ notes { items { id } } }'));
  assert.equal(r.status, 200);
  // notes is non-null, so the refusal nulls `data` as AppSync's does.
  assert.equal(r.body.data, null);
  assert.equal(r.body.errors.length, 1);
  assert.equal(r.body.errors[0].errorType, 'Unauthorized');
  assert.equal(r.body.errors[0].message, 'Not Authorized to access notes on type Query');
  assert.deepEqual(r.body.errors[0].path, ['notes']);
  assert.equal(await invocations(), before);
});

test('a guest reads public notes and is a guest', async () => {
  const r = await post(await signedGraphql(guest.Credentials, '{ me { identityId tenantId } publicNotes(tenantId: "acme") { items { id visibility } } }'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
  assert.equal(r.body.data.me.identityId, guest.IdentityId);
  assert.ok(r.body.data.publicNotes.items.every((n) => n.visibility === 'PUBLIC'));
});

test('CORS: a browser app on another origin may call the GraphQL, Identity and User Pool endpoints', async () => {
  const origin = 'http://localhost:5173';
  for (const url of [outputs.graphqlUrl, outputs.cognitoIdentityEndpoint, outputs.cognitoIdpEndpoint]) {
    const pre = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-amz-date,x-amz-security-token,x-amz-target,x-amz-user-agent' },
    });
    assert.equal(pre.status, 200, url);
    assert.ok(['*', origin].includes(pre.headers.get('access-control-allow-origin')), url);
    assert.match(pre.headers.get('access-control-allow-headers'), /x-amz-security-token/i, url);
  }
  const r = await fetch(outputs.graphqlUrl, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
});
