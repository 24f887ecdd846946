// The sign-in chain, shared by both pages: the stack's outputs.json, the chosen tenant, and
// Amplify configured for that tenant's User Pool plus the Identity Pool of whoever is calling.
//
// The architecture's key step: a user first chooses a tenant, the app then configures Amplify
// with THAT tenant's User Pool (each tenant has its own), and only then signs in. Choosing another
// tenant signs out whoever is signed in and re-configures Amplify. Every GraphQL request is signed
// with SigV4 using the Identity Pool credentials Amplify holds for the session (the user's role
// when signed in, the guest role otherwise).
//
// Tenants are spread over several Identity Pools: a signed-in user gets credentials from their
// tenant's pool (`tenants[].identityPoolId`, else the top-level `identityPoolId` of an older
// outputs file); a guest always from the top-level one, the stack's first pool. Amplify holds one
// Identity Pool at a time, so signing in and out re-configures it between the two.
import { Amplify } from 'aws-amplify';
import { fetchAuthSession, getCurrentUser, signIn, signOut, type SignInOutput } from 'aws-amplify/auth';

export interface DemoUser {
  username: string;
  password: string;
  name: string;
}

export interface TenantOutputs {
  tenantId: string;
  userPoolId: string;
  userPoolClientId: string;
  /** The Identity Pool this tenant's users get credentials from; absent: the top-level one. */
  identityPoolId?: string;
  /** Only the local stack lists users (their passwords are not a deployed stack's to know). */
  users?: DemoUser[];
}

/** The stack's outputs: scripts/local.sh writes them, scripts/outputs.sh STACK for AWS. */
export interface Outputs {
  region: string;
  graphqlUrl: string;
  /** The stack's first Identity Pool: guests' credentials, and tenants without their own. */
  identityPoolId: string;
  allowGuests: boolean;
  /** Local stack only: where the User Pools and the Identity Pool answer (AWS's otherwise). */
  cognitoIdpEndpoint?: string;
  cognitoIdentityEndpoint?: string;
  /** Local stack only: the certificate its wss:// real-time endpoint presents (made per run). */
  realtimeCaCertificate?: string;
  tenants: TenantOutputs[];
}

const TENANT_KEY = 'notes-web.tenant';

/** outputs.json, served next to the page. */
export async function loadOutputs(): Promise<Outputs> {
  const res = await fetch(new URL('outputs.json', document.baseURI), { cache: 'no-store' });
  if (!res.ok) throw new Error(`outputs.json could not be loaded (HTTP ${res.status}); serve the stack's outputs file next to the app.`);
  const o = (await res.json()) as Outputs;
  for (const key of ['region', 'graphqlUrl', 'identityPoolId'] as const) {
    if (typeof o[key] !== 'string' || o[key] === '') throw new Error(`outputs.json has no ${key}.`);
  }
  if (!Array.isArray(o.tenants) || o.tenants.length === 0) throw new Error('outputs.json lists no tenants.');
  for (const t of o.tenants) {
    if (t.identityPoolId !== undefined && (typeof t.identityPoolId !== 'string' || t.identityPoolId === '')) {
      throw new Error(`outputs.json: tenant ${t.tenantId} has an empty identityPoolId.`);
    }
  }
  return o;
}

/** The Identity Pool a tenant's users get credentials from: its own, else the top-level one. */
export function tenantIdentityPoolId(o: Outputs, t: TenantOutputs): string {
  return t.identityPoolId ?? o.identityPoolId;
}

/** The Identity Pool guests get credentials from: always the top-level one (the stack's first). */
export function guestIdentityPoolId(o: Outputs): string {
  return o.identityPoolId;
}

/** Whose credentials Amplify is configured to fetch: a signed-in user's, or a guest's. */
export type Caller = 'user' | 'guest';

/**
 * Amplify's configuration for one tenant: its User Pool, the Identity Pool of the caller (the
 * tenant's for its user, the top-level one for a guest), the API.
 */
export function amplifyConfig(o: Outputs, t: TenantOutputs, caller: Caller) {
  return {
    Auth: {
      Cognito: {
        userPoolId: t.userPoolId,
        userPoolClientId: t.userPoolClientId,
        identityPoolId: caller === 'user' ? tenantIdentityPoolId(o, t) : guestIdentityPoolId(o),
        allowGuestAccess: o.allowGuests === true,
        loginWith: { email: true },
        ...(o.cognitoIdpEndpoint ? { userPoolEndpoint: o.cognitoIdpEndpoint } : {}),
        ...(o.cognitoIdentityEndpoint ? { identityPoolEndpoint: o.cognitoIdentityEndpoint } : {}),
      },
    },
    API: {
      GraphQL: {
        endpoint: o.graphqlUrl,
        region: o.region,
        defaultAuthMode: 'iam' as const,
      },
    },
  };
}

export function tenantById(o: Outputs, id: string | null): TenantOutputs | undefined {
  return o.tenants.find((t) => t.tenantId === id);
}

/** The tenant this browser last chose (both pages share it), else the first one. */
export function storedTenant(o: Outputs): TenantOutputs {
  return tenantById(o, localStorage.getItem(TENANT_KEY)) ?? o.tenants[0];
}

let configured: { outputs: Outputs; tenant: TenantOutputs; caller: Caller } | null = null;

/** Configures Amplify for `t` and `caller` (no credentials are touched here). */
function configure(o: Outputs, t: TenantOutputs, caller: Caller): void {
  Amplify.configure(amplifyConfig(o, t, caller));
  configured = { outputs: o, tenant: t, caller };
}

/** The tenant Amplify is configured for. */
export function currentTenant(): TenantOutputs {
  if (!configured) throw new Error('Amplify is not configured yet.');
  return configured.tenant;
}

/** The Identity Pool Amplify currently gets credentials from (the tenant's or the guests'). */
export function currentIdentityPoolId(): string {
  if (!configured) throw new Error('Amplify is not configured yet.');
  const { outputs, tenant, caller } = configured;
  return caller === 'user' ? tenantIdentityPoolId(outputs, tenant) : guestIdentityPoolId(outputs);
}

/**
 * At page load: configure for the stored tenant, keeping any session signed in there (then with
 * the tenant's Identity Pool; signed out, the guests' one).
 */
export async function restoreTenant(o: Outputs): Promise<TenantOutputs> {
  const t = storedTenant(o);
  configure(o, t, 'guest');
  // The tokens are the User Pool's, so whether someone is signed in is known before the pool.
  if (await signedInUser()) configure(o, t, 'user');
  return t;
}

/**
 * The user picks a tenant: whoever is signed in is signed out (their tokens belong to the other
 * pool), then Amplify is re-configured with the chosen tenant's pool, as a guest until sign-in.
 */
export async function chooseTenant(o: Outputs, t: TenantOutputs): Promise<void> {
  await signOutQuietly();
  configure(o, t, 'guest');
  localStorage.setItem(TENANT_KEY, t.tenantId);
}

/**
 * Signs in at the configured tenant's User Pool (SRP), then gets the user's credentials from the
 * tenant's Identity Pool. Guest credentials and the guest identity id are dropped on both sides of
 * the sign-in, so the Identity Pool issues the user's own identity from the id token rather than
 * being asked to upgrade a guest one (a guest's identity is the guests' pool's anyway). Without a
 * completed sign-in Amplify goes back to the guests' pool.
 */
export async function signInHere(username: string, password: string): Promise<SignInOutput> {
  if (!configured) throw new Error('Amplify is not configured yet.');
  const { outputs, tenant } = configured;
  await Amplify.clearCredentials();
  configure(outputs, tenant, 'user');
  let out: SignInOutput;
  try {
    out = await signIn({ username: username.trim(), password });
  } catch (e) {
    configure(outputs, tenant, 'guest');
    throw e;
  }
  if (out.isSignedIn) {
    await Amplify.clearCredentials();
    await ensureCredentials();
  } else {
    configure(outputs, tenant, 'guest');
  }
  return out;
}

/**
 * Sign-out clears the session: tokens, credentials and the identity id; Amplify then gets guest
 * credentials from the guests' Identity Pool again.
 */
export async function signOutQuietly(): Promise<void> {
  try {
    await signOut();
  } catch {
    // Nobody was signed in, or the pool is unreachable: the local session is cleared either way.
  }
  try {
    await Amplify.clearCredentials();
  } catch {
    /* not configured yet */
  }
  if (configured?.caller === 'user') configure(configured.outputs, configured.tenant, 'guest');
}

/** The signed-in user's sign-in name, or null. */
export async function signedInUser(): Promise<string | null> {
  try {
    const u = await getCurrentUser();
    return u.signInDetails?.loginId ?? u.username;
  } catch {
    return null;
  }
}

/**
 * The session's credentials, fetched now. A cached identity id the Identity Pool refuses (a guest
 * id a restarted local stack no longer knows, or a guest id offered with a user's login) is
 * dropped once and a fresh identity fetched.
 */
export async function ensureCredentials(): Promise<void> {
  try {
    await fetchAuthSession();
    return;
  } catch (e) {
    const err = e as { name?: string; message?: string };
    const staleId = err.name === 'ResourceNotFoundException' || (err.name === 'NotAuthorizedException' && /Logins don't match/i.test(err.message ?? ''));
    if (!staleId) throw e;
  }
  await Amplify.clearCredentials();
  await fetchAuthSession();
}
