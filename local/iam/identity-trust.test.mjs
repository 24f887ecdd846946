// The Identity Pool roles' trust policies as STS evaluates them when Cognito assumes a role at
// GetCredentialsForIdentity (local/identity-pool.mjs): aud must be this pool, amr must say
// authenticated for UserRole and unauthenticated for GuestRole.
import test from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { roleTrustAllows } from '../identity-pool.mjs';
import { loadStackPolicies } from './policies.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const POOL = 'eu-central-1:11111111-2222-3333-4444-555555555555';
const stack = loadStackPolicies(ROOT, { identityPoolId: POOL });
const user = stack.roles.get('UserRole');
const guest = stack.roles.get('GuestRole');
const provider = 'cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Acme';
const signedIn = { identityPoolId: POOL, identityId: 'eu-central-1:id-1', provider, sub: 'sub-1' };
const anonymous = { identityPoolId: POOL, identityId: 'eu-central-1:id-2', provider: null, sub: null };

test('UserRole trusts this pool\'s signed-in identities only', async () => {
  const ok = await roleTrustAllows(user, signedIn);
  assert.equal(ok.allowed, true);
  assert.deepEqual(ok.context['cognito-identity.amazonaws.com:amr'], ['authenticated', provider, `${provider}:CognitoSignIn:sub-1`]);
  assert.equal((await roleTrustAllows(user, anonymous)).allowed, false);
  assert.equal((await roleTrustAllows(user, { ...signedIn, identityPoolId: 'eu-central-1:another-pool' })).allowed, false);
});

test('GuestRole trusts this pool\'s guests only', async () => {
  assert.equal((await roleTrustAllows(guest, anonymous)).allowed, true);
  assert.equal((await roleTrustAllows(guest, signedIn)).allowed, false);
  assert.equal((await roleTrustAllows(guest, { ...anonymous, identityPoolId: 'eu-central-1:another-pool' })).allowed, false);
});
