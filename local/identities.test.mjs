// The local AppSync builds the `identity` object with appsyncIdentity(); the functions' tests,
// the sample events and the benchmark build it in Rust (shared::fixtures). One shape: the
// sample events (events/, generated from the Rust fixtures by
// `cargo run -p integration-tests --bin gen-events`) must be what appsyncIdentity() makes for
// the same caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { appsyncIdentity } from './identities.mjs';

const sample = (caller) =>
  JSON.parse(readFileSync(new URL(`../events/me/${caller}.json`, import.meta.url), 'utf8')).identity;

test('a signed-in user: the same identity object as the Rust fixtures', () => {
  const want = sample('tenant-a');
  const [provider, signIn] = JSON.parse(`[${want.cognitoIdentityAuthProvider}]`);
  const got = appsyncIdentity({
    identityPoolId: want.cognitoIdentityPoolId,
    identityId: want.cognitoIdentityId,
    provider,
    sub: signIn.split(':CognitoSignIn:')[1],
    sourceIp: want.sourceIp[0],
    accountId: want.accountId,
  });
  assert.deepEqual(got, want);
});

test('a guest: the same identity object as the Rust fixtures', () => {
  const want = sample('guest');
  const got = appsyncIdentity({
    identityPoolId: want.cognitoIdentityPoolId,
    identityId: want.cognitoIdentityId,
    sourceIp: want.sourceIp[0],
    accountId: want.accountId,
  });
  assert.deepEqual(got, want);
});
