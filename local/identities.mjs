// Who the local stack knows: the demo tenants and users scripts/local.sh creates in the local
// User Pools (moto), the Identity Pool roles, and the one function that turns a caller into the
// `identity` object AppSync puts in the event under AWS_IAM for Identity Pool credentials.
//
// The header stand-ins at the bottom (`x-demo-identity: acme/alice`) are a test tool for
// server.test.mjs: the endpoint accepts them only when started with --trust-identity-header.

export const REGION = 'eu-central-1';
// moto's default account: the ARNs the local stack hands out are in it.
export const ACCOUNT_ID = '123456789012';

/**
 * The roles the Identity Pool hands out (template.yaml: IdentityPoolRoles). AppSync reports the
 * assumed role in `userArn` and the role's unique id in `username`; a deployed stack's roles get
 * generated names and AROA ids, these are the local stand-ins.
 */
export const ROLES = {
  authenticated: { resource: 'UserRole', name: 'NotesUserRole', id: 'AROAUSERROLEID000001' },
  unauthenticated: { resource: 'GuestRole', name: 'NotesGuestRole', id: 'AROAGUESTROLEID00001' },
};

/** A Cognito User Pool's provider key, as listed in the Identity Pool and in `Logins`. */
export const providerKey = (poolId, region = REGION) => `cognito-idp.${region}.amazonaws.com/${poolId}`;

/**
 * AppSync's `identity` for a caller with Identity Pool credentials:
 *   provider: the User Pool provider key (null for guests), sub: the user's sub in that pool.
 * `cognitoIdentityAuthProvider` is AppSync's quoted list, the pool and then pool:CognitoSignIn:sub.
 */
export function appsyncIdentity({ identityPoolId, identityId, provider = null, sub = null, sourceIp = '127.0.0.1', accountId = ACCOUNT_ID }) {
  const authenticated = provider !== null;
  const role = ROLES[authenticated ? 'authenticated' : 'unauthenticated'];
  let authProvider = null;
  if (authenticated) {
    const entries = sub ? [provider, `${provider}:CognitoSignIn:${sub}`] : [provider];
    authProvider = entries.map((e) => `"${e}"`).join(',');
  }
  return {
    accountId,
    cognitoIdentityAuthProvider: authProvider,
    cognitoIdentityAuthType: authenticated ? 'authenticated' : 'unauthenticated',
    cognitoIdentityId: identityId,
    cognitoIdentityPoolId: identityPoolId,
    sourceIp: [sourceIp],
    userArn: `arn:aws:sts::${accountId}:assumed-role/${role.name}/CognitoIdentityCredentials`,
    username: `${role.id}:CognitoIdentityCredentials`,
  };
}

/**
 * The local stack's one plain-IAM key (not Identity Pool credentials): the functions under
 * `cargo lambda watch` and tenantctl use it, as scripts/local.sh sets AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY (DynamoDB Local keeps one database per key, so they all share it). On AWS
 * the note publisher function's role and an operator's role are different principals; here the
 * key stands for both and may call what template.yaml grants either (server.mjs, wiring.mjs).
 */
export const LOCAL_IAM_KEY = { accessKeyId: 'local', secretAccessKey: 'local', roleName: 'NotesLocalOperator', roleId: 'AROALOCALOPERATOR001', session: 'local' };

/** AppSync's `identity` for a plain IAM principal (no Cognito identity): a role session. */
export function iamIdentity({ roleName, roleId, session, sourceIp = '127.0.0.1', accountId = ACCOUNT_ID }) {
  return {
    accountId,
    cognitoIdentityAuthProvider: null,
    cognitoIdentityAuthType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    sourceIp: [sourceIp],
    userArn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${session}`,
    username: `${roleId}:${session}`,
  };
}

// Passwords meet the template's policy (12+ characters, upper, lower, digit). Local demo only.
const user = (name, domain) => ({ name, username: `${name}@${domain}`, password: `${name[0].toUpperCase()}${name.slice(1)}-Local-Demo-1` });

/**
 * The demo tenants, onboarded by scripts/local.sh with `tenantctl onboard` as an operator
 * onboards a tenant on AWS: `admin` is the first user onboard creates (made the tenant's ADMIN
 * at their first call); local/cognito-setup.mjs then adds the other demo users and gives every
 * user a permanent password. Users sign in with their email.
 */
export const DEMO_TENANTS = [
  { tenantId: 'acme', name: 'Acme Corp', admin: user('admin', 'acme.example'), users: [user('alice', 'acme.example'), user('carol', 'acme.example')] },
  { tenantId: 'globex', name: 'Globex', admin: user('admin', 'globex.example'), users: [user('bob', 'globex.example')] },
];

/** A User Pool that exists but that the Identity Pool does not list and no tenant registered. */
export const OUTSIDER = { name: 'outsider', users: [user('mallory', 'outsider.example')] };

// ---------------------------------------------------------------- header stand-ins (test tool)

/** The stand-ins' Identity Pool (the real one is created in moto by scripts/local.sh). */
export const IDENTITY_POOL_ID = `${REGION}:1cb638b4-0f0c-4078-9fe0-4dbd3582783d`;

const pool = (id) => providerKey(`${REGION}_${id}`);
export const PROVIDERS = {
  acmePool: pool('AcmePool1'),
  globexPool: pool('GlobexPl1'),
  globexOidc: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/login.globex.example`,
  unknownPool: pool('NoTenant9'),
};

// name -> [provider key or null for guests, identity-id suffix, User Pool sub or null]
const PEOPLE = {
  'acme/alice': [PROVIDERS.acmePool, 'a11ce000-0000-4000-8000-00000000000a', '2f1c5a3e-8a3b-4b9e-9d2a-5f0c1e7d9b11'],
  'acme/carol': [PROVIDERS.acmePool, 'ca201000-0000-4000-8000-00000000000c', '5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e'],
  'globex/bob': [PROVIDERS.globexPool, 'b0b00000-0000-4000-8000-00000000000b', '7d4e2c1a-3b5f-4a6d-8e9f-0a1b2c3d4e5f'],
  'globex/dana': [PROVIDERS.globexOidc, 'da2a0000-0000-4000-8000-00000000000d', null],
  'unknown/eve': [PROVIDERS.unknownPool, 'e7e00000-0000-4000-8000-00000000000e', '0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b'],
  guest: [null, '9e570000-0000-4000-8000-000000000009', null],
};

export const DEMO_NAMES = Object.keys(PEOPLE);

/** The AppSync identity object for a stand-in name, or null if there is no such name. */
export function demoIdentity(name) {
  const person = PEOPLE[name];
  if (!person) return null;
  const [provider, id, sub] = person;
  return appsyncIdentity({ identityPoolId: IDENTITY_POOL_ID, identityId: `${REGION}:${id}`, provider, sub });
}
