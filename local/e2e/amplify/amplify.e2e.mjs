// Amplify JS v6, unchanged, against the local stack: alice and bob each run an Amplify app
// (client.mjs, one process each) that signs in with SRP, subscribes to onNoteChanged with IAM
// credentials from the sign-in chain over AppSync's real-time protocol (wss://, the stack's
// certificate trusted through NODE_EXTRA_CA_CERTS, as any Node client would), and alice creates
// a TENANT note through Amplify's GraphQL client: alice's subscription receives it, bob's — another
// tenant — receives nothing.
// Needs the live stack (scripts/local.sh --check runs it); run: node --test local/e2e/amplify/amplify.e2e.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { credentialsFor, tenant } from '../live.mjs';
import { NOTE_CHANGES, realtimeClient } from '../realtime-live.mjs';

function app(tenantId, username) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./client.mjs', import.meta.url)), tenantId, username], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  const waiters = new Set();
  createInterface({ input: child.stdout }).on('line', (l) => {
    const m = JSON.parse(l);
    lines.push(m);
    for (const w of waiters) if (w.pred(m)) { waiters.delete(w); w.resolve(m); }
  });
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  return {
    lines,
    send: (cmd) => child.stdin.write(`${JSON.stringify(cmd)}\n`),
    wait(pred, ms = 30_000) {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      return Promise.race([
        new Promise((resolve) => waiters.add({ pred, resolve })),
        exited.then((code) => { throw new Error(`${username} exited (${code}): ${JSON.stringify(lines)}`); }),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`${username}: nothing matching in ${ms} ms: ${JSON.stringify(lines)}`)), ms).unref()),
      ]);
    },
    stop: () => child.kill(),
  };
}

test("Amplify JS v6 subscribes with IAM credentials and receives alice's new TENANT note; bob's subscription receives nothing", async () => {
  // Amplify gives a start 15 s to be acknowledged. The first call of a function under `cargo
  // lambda watch` may build it first: call it once before the apps start.
  const acme = tenant('acme');
  const warm = await realtimeClient((await credentialsFor(acme, acme.users[0])).Credentials);
  assert.equal((await warm.start('warm-up', NOTE_CHANGES, {}, {}, 300_000)).type, 'start_ack');
  await warm.close();
  const alice = app('acme', 'alice@acme.example');
  const bob = app('globex', 'bob@globex.example');
  try {
    await Promise.all([alice.wait((m) => m.type === 'ready'), bob.wait((m) => m.type === 'ready')]);
    const title = `amplify ${Date.now()}`;
    alice.send({ create: { title, visibility: 'TENANT' } });
    const { note } = await alice.wait((m) => m.type === 'created');
    assert.equal(note.visibility, 'TENANT');
    const got = await alice.wait((m) => m.type === 'data' && m.change.noteId === note.id);
    assert.equal(got.change.kind, 'CREATED');
    assert.equal(got.change.note.title, title);
    // The event reached alice; give bob's subscription the same time and more to misbehave.
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(bob.lines.filter((m) => m.type !== 'ready'), []);
    assert.deepEqual(alice.lines.filter((m) => m.type === 'error'), []);
  } finally {
    alice.stop();
    bob.stop();
  }
});
