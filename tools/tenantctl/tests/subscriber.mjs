// A subscriber for tools/tenantctl/tests/lifecycle.rs: signs a user in through the live stack's
// chain (User Pool → Identity Pool → SigV4), opens an AppSync real-time connection, starts
// Subscription.onNoteChanged, and prints one JSON line per message it receives, then
// {"type":"closed"} when the server closes the connection (and exits). Rust has no WebSocket
// client in this workspace; the protocol client is the one the real-time e2e tests use.
//   OUTPUTS=.local/outputs.json node tools/tenantctl/tests/subscriber.mjs POOL_ID CLIENT_ID USERNAME PASSWORD
import { credentialsFor } from '../../../local/e2e/live.mjs';
import { NOTE_CHANGES, realtimeClient } from '../../../local/e2e/realtime-live.mjs';

const [userPoolId, userPoolClientId, username, password] = process.argv.slice(2);
const say = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);
try {
  const { IdentityId, Credentials } = await credentialsFor({ userPoolId, userPoolClientId }, { username, password });
  const c = await realtimeClient(Credentials);
  c.ws.on('message', (d) => say(JSON.parse(d.toString())));
  c.closed.then(() => {
    say({ type: 'closed' });
    process.exit(0);
  });
  const started = await c.start('s', NOTE_CHANGES);
  say({ type: 'started', identityId: IdentityId, answer: started.type });
  // Stays until the server closes it, or stdin closes (the test ended).
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
} catch (e) {
  say({ type: 'failed', message: String(e?.message ?? e) });
  process.exit(1);
}
