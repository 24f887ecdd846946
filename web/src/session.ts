// The sign-in chain, shared by both pages: the stack's outputs.json, the chosen tenant, and
// Amplify configured for that tenant's User Pool plus the shared Identity Pool.
//
// The architecture's key step: a user first chooses a tenant, the app then configures Amplify
// with THAT tenant's User Pool (each tenant has its own), and only then signs in. Choosing another
// tenant signs out whoever is signed in and re-configures Amplify. Every GraphQL request is signed
// with SigV4 using the Identity Pool credentials Amplify holds for the session (the user's role
// when signed in, the guest role otherwise).
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
  /** Only the local stack lists users (their passwords are not a deployed stack's to know). */
  users?: DemoUser[];
}

/** The stack's outputs: scripts/local.sh writes them, scripts/outputs.sh STACK for AWS. */
export interface Outputs {
  region: string;
  graphqlUrl: string;
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
  return o;
}

/** Amplify's configuration for one tenant: its User Pool, the shared Identity Pool, the API. */
export function amplifyConfig(o: Outputs, t: TenantOutputs) {
  return {
    Auth: {
      Cognito: {
        userPoolId: t.userPoolId,
        userPoolClientId: t.userPoolClientId,
        identityPoolId: o.identityPoolId,
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

let configured: TenantOutputs | null = null;

/** The tenant Amplify is configured for. */
export function currentTenant(): TenantOutputs {
  if (!configured) throw new Error('Amplify is not configured yet.');
  return configured;
}

/** At page load: configure for the stored tenant, keeping any session signed in there. */
export function restoreTenant(o: Outputs): TenantOutputs {
  const t = storedTenant(o);
  Amplify.configure(amplifyConfig(o, t));
  configured = t;
  return t;
}

/**
 * The user picks a tenant: whoever is signed in is signed out (their tokens belong to the other
 * pool), then Amplify is re-configured with the chosen tenant's pool.
 */
export async function chooseTenant(o: Outputs, t: TenantOutputs): Promise<void> {
  await signOutQuietly();
  Amplify.configure(amplifyConfig(o, t));
  configured = t;
  localStorage.setItem(TENANT_KEY, t.tenantId);
}

/**
 * Signs in at the configured tenant's User Pool (SRP), then gets the user's Identity Pool
 * credentials. Guest credentials and the guest identity id are dropped on both sides of the
 * sign-in, so the Identity Pool issues the user's own identity from the id token rather than being
 * asked to upgrade a guest one.
 */
export async function signInHere(username: string, password: string): Promise<SignInOutput> {
  await Amplify.clearCredentials();
  const out = await signIn({ username: username.trim(), password });
  if (out.isSignedIn) {
    await Amplify.clearCredentials();
    await ensureCredentials();
  }
  return out;
}

/** Sign-out clears the session: tokens, credentials and the identity id. */
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
