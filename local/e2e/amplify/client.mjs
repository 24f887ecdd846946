// One Amplify JS v6 app, as a browser app would run it, in its own Node process (Amplify is
// configured once per process): configured from .local/outputs.json, signed in with SRP at a
// tenant's User Pool, its GraphQL calls and its subscription signed with the Identity Pool
// credentials of the sign-in chain (authMode 'iam'). Nothing in it knows it talks to the local
// stack, except that Node 20 has no WebSocket of its own (browsers and Node 22 do): the `ws`
// package stands in for it.
//
//   node client.mjs <tenantId> <username>
// Writes JSON lines to stdout: {"type":"ready"} once the subscription is acknowledged, then
// {"type":"data","change":...} per event; reads commands from stdin: {"create": {title, visibility}}
// answers {"type":"created","note":...}.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { Amplify } from 'aws-amplify';
import { signIn } from 'aws-amplify/auth';
import { generateClient } from 'aws-amplify/api';
import { Hub } from 'aws-amplify/utils';

globalThis.WebSocket ??= WebSocket;

const [tenantId, username] = process.argv.slice(2);
const outputs = JSON.parse(readFileSync(process.env.OUTPUTS ?? new URL('../../../.local/outputs.json', import.meta.url), 'utf8'));
const t = outputs.tenants.find((x) => x.tenantId === tenantId);
const user = t.users.find((u) => u.username === username || u.name === username);
const say = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);

Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: t.userPoolId,
      userPoolClientId: t.userPoolClientId,
      // The tenant's own Identity Pool (tenants live in several), else the top-level one.
      identityPoolId: t.identityPoolId ?? outputs.identityPoolId,
      allowGuestAccess: outputs.allowGuests === true,
      loginWith: { email: true },
      userPoolEndpoint: outputs.cognitoIdpEndpoint,
      identityPoolEndpoint: outputs.cognitoIdentityEndpoint,
    },
  },
  API: { GraphQL: { endpoint: outputs.graphqlUrl, region: outputs.region, defaultAuthMode: 'iam' } },
});

const out = await signIn({ username: user.username, password: user.password });
if (!out.isSignedIn) throw new Error(`sign-in stopped at ${out.nextStep?.signInStep}`);

const client = generateClient();
Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') say({ type: 'ready' });
});
client
  .graphql({
    query: `subscription { onNoteChanged { kind noteId tenantId ownerId visibility revoked note { id title body visibility version } } }`,
    authMode: 'iam',
  })
  .subscribe({
    next: ({ data }) => say({ type: 'data', change: data.onNoteChanged }),
    error: (e) => say({ type: 'error', error: JSON.stringify(e?.errors ?? e?.message ?? e) }),
  });

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line);
  if (cmd.create) {
    const r = await client.graphql({
      query: 'mutation C($i: CreateNoteInput!) { createNote(input: $i) { id tenantId title visibility version } }',
      variables: { i: cmd.create },
      authMode: 'iam',
    });
    say({ type: 'created', note: r.data.createNote });
  }
}
