// Demo tenants and the identities the local endpoint can impersonate (x-demo-identity header).
// Each identity object is what AppSync puts in `identity` for that caller under AWS_IAM:
// Identity Pool credentials, the provider list quoted the way AppSync quotes it.

export const REGION = 'eu-central-1';
export const IDENTITY_POOL_ID = `${REGION}:1cb638b4-0f0c-4078-9fe0-4dbd3582783d`;
const ACCOUNT = '123456789012';

const pool = (id) => `cognito-idp.${REGION}.amazonaws.com/${REGION}_${id}`;
export const PROVIDERS = {
  acmePool: pool('AcmePool1'),
  globexPool: pool('GlobexPl1'),
  globexOidc: `arn:aws:iam::${ACCOUNT}:oidc-provider/login.globex.example`,
  unknownPool: pool('NoTenant9'),
};

/** What `tenantctl register` is run with for the demo. */
export const TENANTS = [
  { tenantId: 'acme', name: 'Acme Corp', provider: PROVIDERS.acmePool },
  { tenantId: 'globex', name: 'Globex', provider: PROVIDERS.globexPool },
  { tenantId: 'globex', name: 'Globex', provider: PROVIDERS.globexOidc },
];

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

/** The AppSync identity object for a demo name, or null if there is no such name. */
export function demoIdentity(name) {
  const person = PEOPLE[name];
  if (!person) return null;
  const [provider, id, sub] = person;
  const base = {
    accountId: ACCOUNT,
    cognitoIdentityId: `${REGION}:${id}`,
    cognitoIdentityPoolId: IDENTITY_POOL_ID,
    sourceIp: ['127.0.0.1'],
  };
  if (provider === null) {
    return {
      ...base,
      cognitoIdentityAuthType: 'unauthenticated',
      cognitoIdentityAuthProvider: null,
      userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/NotesGuestRole/CognitoIdentityCredentials`,
      username: 'AROAGUESTROLEID00001:CognitoIdentityCredentials',
    };
  }
  const entries = sub ? [provider, `${provider}:CognitoSignIn:${sub}`] : [provider];
  return {
    ...base,
    cognitoIdentityAuthType: 'authenticated',
    cognitoIdentityAuthProvider: entries.map((e) => `"${e}"`).join(','),
    userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/NotesUserRole/CognitoIdentityCredentials`,
    username: 'AROAUSERROLEID000001:CognitoIdentityCredentials',
  };
}

// `node identities.mjs tenants` prints "tenantId<TAB>name<TAB>provider" lines for scripts/local.sh.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()) && process.argv[2] === 'tenants') {
  for (const t of TENANTS) console.log([t.tenantId, t.name, t.provider].join('\t'));
}
