// The SigV4 verifier against requests signed by AWS's own signer (as Amplify and the SDKs sign),
// without a running stack: every refusal AppSync answers before a resolver runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { Refusal, verifySigV4 } from './sigv4.mjs';

const REGION = 'eu-central-1';
const KEY = { accessKeyId: 'ASIAABCDEFGHIJKLMNOP', secretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNl', sessionToken: 'token-1' };
const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
const lookup = (id) => (id === KEY.accessKeyId ? { secretAccessKey: KEY.secretAccessKey, sessionToken: KEY.sessionToken, expiresAt: NOW + 3600_000 } : null);

/** Signs like Amplify's GraphQL client: content-type;host;x-amz-date;x-amz-security-token;x-amz-user-agent. */
async function signed({ body = '{"query":"{ me { identityId } }"}', creds = KEY, region = REGION, service = 'appsync', at = NOW, extraHeaders = {} } = {}) {
  const signer = new SignatureV4({ credentials: creds, region, service, sha256: Sha256, applyChecksum: false });
  const req = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 4000, path: '/graphql', query: {},
    headers: { 'content-type': 'application/json; charset=UTF-8', host: '127.0.0.1:4000', 'x-amz-user-agent': 'aws-amplify/6.0 api/1 framework/0', ...extraHeaders },
    body,
  }, { signingDate: new Date(at) });
  return { method: 'POST', url: '/graphql', headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])), body: Buffer.from(body) };
}

const verify = (r, over = {}) => verifySigV4({ ...r, region: REGION, service: 'appsync', lookup, now: NOW, ...over });

async function refused(promise, status, errorType, message) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Refusal, e.stack);
    assert.equal(e.status, status);
    assert.equal(e.errorType, errorType);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('a request signed by AWS\'s signer is accepted, over exactly the headers it signed', async () => {
  const r = await signed();
  assert.match(r.headers.authorization, /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-user-agent,/);
  r.headers['x-unsigned-extra'] = 'ignored';
  const { accessKeyId } = await verify(r);
  assert.equal(accessKeyId, KEY.accessKeyId);
});

test('botocore-style signing (x-amz-content-sha256 signed too) is accepted', async () => {
  const signer = new SignatureV4({ credentials: KEY, region: REGION, service: 'appsync', sha256: Sha256 });
  const body = '{"query":"{ me { identityId } }"}';
  const req = await signer.sign({ method: 'POST', protocol: 'http:', hostname: 'h', path: '/graphql', query: {}, headers: { host: '127.0.0.1:4000', 'content-type': 'application/json' }, body }, { signingDate: new Date(NOW) });
  assert.match(req.headers.authorization, /x-amz-content-sha256/);
  await verify({ method: 'POST', url: '/graphql', headers: req.headers, body: Buffer.from(body) });
});

test('a body changed after signing is refused, even when the signed x-amz-content-sha256 vouches for the old one', async () => {
  const r = await signed();
  await refused(verify({ ...r, body: Buffer.from('{"query":"{ notes { items { id } } }"}') }), 403, 'InvalidSignatureException', /^The request signature we calculated does not match/);
  // botocore signs the payload hash as a header: the verifier must hash the body it got instead.
  const signer = new SignatureV4({ credentials: KEY, region: REGION, service: 'appsync', sha256: Sha256 });
  const req = await signer.sign({ method: 'POST', protocol: 'http:', hostname: 'h', path: '/graphql', query: {}, headers: { host: '127.0.0.1:4000' }, body: '{"query":"{ me { identityId } }"}' }, { signingDate: new Date(NOW) });
  await refused(verify({ method: 'POST', url: '/graphql', headers: req.headers, body: Buffer.from('{"query":"{ notes { items { id } } }"}') }), 403, 'InvalidSignatureException');
});

test('a wrong secret is refused with InvalidSignatureException and the canonical string', async () => {
  const r = await signed({ creds: { ...KEY, secretAccessKey: 'wrong' } });
  await refused(verify(r), 403, 'InvalidSignatureException', /The Canonical String for this request should have been\n'POST\n\/graphql\n/);
});

test('unknown keys and a session token that is not the key\'s are UnrecognizedClientException', async () => {
  await refused(verify(await signed({ creds: { ...KEY, accessKeyId: 'ASIAUNKNOWNUNKNOWN00' } })), 403, 'UnrecognizedClientException', /^The security token included in the request is invalid\.$/);
  await refused(verify(await signed({ creds: { ...KEY, sessionToken: 'token-2' } })), 403, 'UnrecognizedClientException');
  await refused(verify(await signed({ creds: { accessKeyId: KEY.accessKeyId, secretAccessKey: KEY.secretAccessKey } })), 403, 'UnrecognizedClientException');
});

test('expired credentials are ExpiredTokenException', async () => {
  const r = await signed();
  await refused(verify(r, { lookup: () => ({ secretAccessKey: KEY.secretAccessKey, sessionToken: KEY.sessionToken, expiresAt: NOW - 1 }) }), 403, 'ExpiredTokenException', /^The security token included in the request is expired$/);
});

test('an X-Amz-Date more than 5 minutes off is refused as AppSync does', async () => {
  await refused(verify(await signed({ at: NOW - 6 * 60_000 })), 400, 'BadRequestException', /^Signature expired: 20250102T025805Z is now earlier than 20250102T025905Z \(20250102T030405Z - 5 min\.\)$/);
  await refused(verify(await signed({ at: NOW + 6 * 60_000 })), 400, 'BadRequestException', /^Signature not yet current: 20250102T031005Z is still later than 20250102T030905Z \(20250102T030405Z \+ 5 min\.\)$/);
  await verify(await signed({ at: NOW - 4 * 60_000 }));
});

test('a credential scoped to another region or service is refused', async () => {
  await refused(verify(await signed({ region: 'us-east-1' })), 403, 'InvalidSignatureException', /^Credential should be scoped to a valid region, not 'us-east-1'\. $/);
  await refused(verify(await signed({ service: 'execute-api' })), 403, 'InvalidSignatureException', /^Credential should be scoped to correct service: 'appsync'\. $/);
});

test('no Authorization header, a JWT instead of a signature, a missing signed header', async () => {
  const r = await signed();
  delete r.headers.authorization;
  await refused(verify(r), 403, 'MissingAuthenticationTokenException', /^Missing Authentication Token$/);
  await refused(verify({ ...r, headers: { ...r.headers, authorization: 'eyJraWQiOiJkdW1teSJ9.e30.sig' } }), 403, 'IncompleteSignatureException', /^Authorization header requires 'Credential' parameter\. Authorization header requires 'Signature' parameter\. Authorization header requires 'SignedHeaders' parameter\. Authorization=eyJ/);
  const s = await signed();
  delete s.headers['x-amz-user-agent'];
  await refused(verify(s), 403, 'IncompleteSignatureException', /^'x-amz-user-agent' is named as a SignedHeader, but it does not exist in the HTTP request\.$/);
});
