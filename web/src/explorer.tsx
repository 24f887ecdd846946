// A GraphQL explorer that signs: GraphiQL whose fetcher sends every request through Amplify's
// GraphQL client (`defaultAuthMode: 'iam'`), i.e. SigV4 with the Identity Pool credentials of the
// session chosen in the panel above it — a tenant's user, signed in at that tenant's User Pool
// through the same chain as the app, or a guest. No identity header is ever sent.
//
// `explorer.html?query=...` opens with that query in the editor.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './explorer.css';
import { GraphiQL } from 'graphiql';
import { Kind, parse, print, type DocumentNode } from 'graphql';
import { createRoot } from 'react-dom/client';
import { generateClient } from 'aws-amplify/api';
import { h, showProblem } from './dom';
import { describe, UserFacingError } from './errors';
import {
  chooseTenant,
  currentIdentityPoolId,
  currentTenant,
  ensureCredentials,
  loadOutputs,
  restoreTenant,
  signInHere,
  signOutQuietly,
  signedInUser,
  tenantById,
  type Outputs,
} from './session';

const DEFAULT_QUERY = `# Every request from this page is signed with SigV4 by Amplify, using the Identity Pool
# credentials of the session chosen above: a tenant's user, or a guest.
{
  me {
    identityId
    authenticated
    tenantId
    provider
  }
}
`;

type GraphQLBody = { data?: unknown; errors?: unknown[] };
interface FetcherParams {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/**
 * Amplify's client sends `{query, variables}` without an operation name, so a document with
 * several operations is cut down to the chosen one (and the fragments) before it is sent.
 */
export function selectOperation(query: string, operationName?: string | null): string {
  let doc: DocumentNode;
  try {
    doc = parse(query);
  } catch {
    return query; // the API reports the syntax error
  }
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (ops.length <= 1 || !operationName) return query;
  const definitions = doc.definitions.filter((d) => d.kind !== Kind.OPERATION_DEFINITION || d.name?.value === operationName);
  return print({ ...doc, definitions });
}

/** What the API answered, as its JSON body — also when Amplify threw it. */
async function toBody(thrown: unknown): Promise<GraphQLBody> {
  const t = thrown as { data?: unknown; errors?: Array<Record<string, unknown>> };
  if (t && Array.isArray(t.errors)) {
    // A refused HTTP request: show AppSync's own body (errorType, message) as it came.
    const original = t.errors[0]?.originalError as { response?: { body?: string }; name?: string; message?: string } | undefined;
    if (original?.response?.body) {
      try {
        return JSON.parse(original.response.body) as GraphQLBody;
      } catch {
        /* not JSON: fall through */
      }
    }
    return {
      data: t.data ?? null,
      errors: t.errors.map((e) => {
        const o = e.originalError as { name?: string } | undefined;
        const { originalError: _o, ...rest } = e;
        void _o;
        return { ...rest, message: e.message, errorType: e.errorType ?? o?.name ?? null };
      }),
    };
  }
  const p = describe(thrown);
  return { errors: [{ errorType: p.type, message: p.sentence, detail: p.detail ?? null }] };
}

async function fetcher(params: FetcherParams): Promise<GraphQLBody> {
  const query = selectOperation(params.query, params.operationName);
  try {
    return (await generateClient().graphql({ query, variables: params.variables ?? {} })) as GraphQLBody;
  } catch (e) {
    return toBody(e);
  }
}

// ---------------------------------------------------------------- the sign-in panel

const panel = document.getElementById('signin-panel')!;
const reactRoot = createRoot(document.getElementById('graphiql')!);
const initialQuery = new URLSearchParams(location.search).get('query') ?? undefined;
let generation = 0;

function mountGraphiQL(): void {
  // A new key per session: GraphiQL fetches the schema again with the new credentials.
  generation += 1;
  reactRoot.render(
    <GraphiQL
      key={generation}
      fetcher={fetcher}
      defaultQuery={DEFAULT_QUERY}
      initialQuery={initialQuery}
      isHeadersEditorEnabled={false}
    />,
  );
}

async function renderPanel(o: Outputs): Promise<void> {
  const t = currentTenant();
  const user = await signedInUser();
  const tenantSelect = h('select', { 'data-testid': 'explorer-tenant' },
    ...o.tenants.map((x) => h('option', { value: x.tenantId, selected: x.tenantId === t.tenantId }, x.tenantId)));
  const email = h('input', { type: 'email', placeholder: 'email', autocomplete: 'username', 'data-testid': 'explorer-email' });
  const password = h('input', { type: 'password', placeholder: 'password', autocomplete: 'current-password', 'data-testid': 'explorer-password' });
  const demoSelect = h('select', { 'data-testid': 'explorer-user' });
  const fillDemo = () => {
    const users = tenantById(o, tenantSelect.value)?.users ?? [];
    demoSelect.replaceChildren(h('option', { value: '' }, users.length ? 'demo user…' : 'no demo users'),
      ...users.map((u) => h('option', { value: u.username }, u.username)));
    demoSelect.disabled = users.length === 0;
  };
  fillDemo();
  tenantSelect.addEventListener('change', fillDemo);
  demoSelect.addEventListener('change', () => {
    const u = tenantById(o, tenantSelect.value)?.users?.find((x) => x.username === demoSelect.value);
    if (u) { email.value = u.username; password.value = u.password; }
  });
  const problem = h('span', { class: 'slot' });
  const signInButton = h('button', { type: 'submit', 'data-testid': 'explorer-sign-in' }, 'Sign in');
  const form = h('form', {
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      problem.replaceChildren();
      signInButton.disabled = true;
      try {
        const chosen = tenantById(o, tenantSelect.value)!;
        // Same chain as the app: configure the chosen tenant's pool, then sign in there.
        await chooseTenant(o, chosen);
        const out = await signInHere(email.value, password.value);
        if (!out.isSignedIn) throw new UserFacingError('UnsupportedSignInStep', `Sign-in needs a step this page does not offer (${out.nextStep.signInStep}); finish it with your tenant's own sign-in page first.`);
        await renderPanel(o);
        mountGraphiQL();
      } catch (e) {
        showProblem(problem, e, 'explorer-problem');
      } finally {
        signInButton.disabled = false;
      }
    },
  }, h('label', {}, 'Tenant ', tenantSelect), demoSelect, email, password, signInButton);
  const guestButton = h('button', { type: 'button', 'data-testid': 'explorer-guest', onclick: async () => {
    await signOutQuietly();
    try { await ensureCredentials(); } catch (e) { showProblem(problem, e, 'explorer-problem'); }
    await renderPanel(o);
    mountGraphiQL();
  } }, user ? (o.allowGuests ? 'Sign out (continue as guest)' : 'Sign out') : 'New guest session');
  // A user's credentials come from their tenant's Identity Pool, a guest's from the top-level one.
  const pool = currentIdentityPoolId();
  const status = user
    ? h('span', { 'data-testid': 'explorer-session' }, 'Requests are signed as ', h('strong', {}, user), ` (tenant ${t.tenantId}, Identity Pool ${pool})`)
    : h('span', { 'data-testid': 'explorer-session' }, o.allowGuests ? `Requests are signed as a guest (Identity Pool ${pool})` : 'Not signed in (this stack has no guest access)');
  panel.replaceChildren(
    h('div', { class: 'bar' },
      h('a', { href: './', 'data-testid': 'app-link' }, '← Notes app'),
      h('strong', {}, 'GraphQL explorer'),
      status, guestButton),
    h('div', { class: 'bar' }, form, problem),
  );
}

async function main(): Promise<void> {
  let o: Outputs;
  try {
    o = await loadOutputs();
  } catch (e) {
    panel.replaceChildren(h('p', { class: 'problem', role: 'alert' }, (e as Error).message));
    return;
  }
  await restoreTenant(o);
  try {
    if (!(await signedInUser())) await ensureCredentials();
  } catch {
    /* shown by the first request */
  }
  await renderPanel(o);
  mountGraphiQL();
}

void main();
