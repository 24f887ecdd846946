// The front end in a real browser (Debian's chromium, driven by playwright-core) against a live
// stack: the app served by web/serve.mjs, its outputs.json naming the stack.
//
//   OUTPUTS=.local/outputs.json WEB_URL=http://127.0.0.1:PORT/ node --test web/test/
//
// OUTPUTS must list demo users (the local stack's file does). CHROMIUM overrides the browser
// (default /usr/bin/chromium); SCREENSHOT where the notes screen's picture goes (default
// web/screenshot.png).
//
// Every request the pages send to the GraphQL endpoint is intercepted and checked: SigV4
// (`Authorization: AWS4-HMAC-SHA256 ...`) and never an `x-demo-identity` header.
import assert from 'node:assert/strict';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUTS = process.env.OUTPUTS;
const WEB_URL = process.env.WEB_URL;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.SCREENSHOT ?? join(WEB, 'screenshot.png');
const TIMEOUT = 60_000; // the first invocation of a function under `cargo lambda watch` compiles it

if (!OUTPUTS || !WEB_URL) throw new Error('set OUTPUTS (the stack\'s outputs.json) and WEB_URL (web/serve.mjs\'s URL)');
const outputs = JSON.parse(readFileSync(OUTPUTS, 'utf8'));
const tenant = (id) => outputs.tenants.find((t) => t.tenantId === id) ?? assert.fail(`outputs has no tenant ${id}`);
const user = (tenantId, name) => tenant(tenantId).users?.find((u) => u.name === name) ?? assert.fail(`outputs has no user ${name} at ${tenantId}`);
const graphqlUrl = new URL(outputs.graphqlUrl);

const run = randomUUID().slice(0, 8);
const titles = { private: `Web private ${run}`, public: `Web public ${run}` };

let browser;
const graphqlRequests = []; // { method, url, headers, page }
const anyDemoHeader = []; // any request at all that carried x-demo-identity
const pageErrors = [];
const contexts = [];

// The local stack's wss:// real-time endpoint presents a certificate made for its run: the
// browser trusts exactly that key (its SPKI hash), as a user does by accepting it once.
const trustRealtime = outputs.realtimeCaCertificate
  ? [`--ignore-certificate-errors-spki-list=${createHash('sha256').update(new X509Certificate(readFileSync(outputs.realtimeCaCertificate)).publicKey.export({ type: 'spki', format: 'der' })).digest('base64')}`]
  : [];

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...trustRealtime,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
});

/** A fresh browser profile (its own storage: its own session) with every request recorded. */
async function newPage(label) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  contexts.push(context);
  context.setDefaultTimeout(TIMEOUT);
  await context.route('**/*', async (route) => {
    const req = route.request();
    const headers = await req.allHeaders();
    if ('x-demo-identity' in headers) anyDemoHeader.push(`${label}: ${req.method()} ${req.url()}`);
    const url = new URL(req.url());
    if (url.origin === graphqlUrl.origin && url.pathname === graphqlUrl.pathname && req.method() !== 'OPTIONS') {
      graphqlRequests.push({ method: req.method(), url: req.url(), headers, page: label });
    }
    await route.continue();
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${label}: ${e.message}`));
  return page;
}

/** Opens the app, picks the tenant (which configures its pool), signs in, waits for `me`. */
async function signIn(page, tenantId, name) {
  const u = user(tenantId, name);
  await page.goto(WEB_URL);
  const picker = page.getByTestId('tenant-picker');
  await picker.waitFor();
  if ((await picker.inputValue()) !== tenantId) {
    await picker.selectOption(tenantId);
    await page.getByTestId('sign-in-section').getByText(`Sign in to ${tenantId}`).waitFor();
  }
  await page.getByTestId('email').fill(u.username);
  await page.getByTestId('password').fill(u.password);
  await page.getByTestId('sign-in').click();
  // Signed in (who the API says we are), or a problem: then fail with its words, not a timeout.
  await page.locator('[data-testid=me-tenant], [data-testid=problem]').first().waitFor();
  const problem = page.getByTestId('problem').first();
  if (await problem.count()) assert.fail(`${name} at ${tenantId}: ${await problem.getAttribute('data-error-type')}: ${await problem.textContent()} (${await problem.getAttribute('title')})`);
  await assertText(page.getByTestId('me-tenant'), tenantId);
  await page.locator('[data-testid=notes-list][data-loaded=true]').waitFor({ state: 'attached' });
}

async function assertText(locator, expected) {
  await locator.waitFor();
  await waitUntil(async () => (await locator.textContent())?.includes(expected), () => `expected "${expected}" in ${locator}`);
}

async function waitUntil(cond, message, ms = TIMEOUT) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) assert.fail(message());
    await new Promise((r) => setTimeout(r, 100));
  }
}

const noteItem = (page, title) => page.locator(`[data-testid=note][data-title="${title}"]`);

async function createNote(page, title, visibility) {
  await page.getByTestId('new-title').fill(title);
  await page.getByTestId('new-body').fill(`Written in the browser test ${run}.`);
  await page.getByTestId('new-visibility').selectOption(visibility);
  await page.getByTestId('create').click();
  await noteItem(page, title).waitFor();
  return noteItem(page, title).getAttribute('data-note-id');
}

const ids = {};
let alice; // alice's page at acme, kept for the stale edit

test('alice signs in at acme and creates a PRIVATE and a PUBLIC note, with her name as author', async () => {
  alice = await newPage('alice');
  await signIn(alice, 'acme', 'alice');
  assert.match(await alice.getByTestId('me-provider').textContent(), new RegExp(`cognito-idp\\.${outputs.region}\\.amazonaws\\.com/${tenant('acme').userPoolId}`));
  assert.match(await alice.getByTestId('me-identity').textContent(), new RegExp(`^${outputs.region}:`));

  // The display name other users see on her notes (Note.author, batched).
  await alice.getByTestId('display-name').fill('Alice');
  await alice.getByTestId('save-profile').click();
  await alice.getByTestId('profile-saved').waitFor();

  ids.private = await createNote(alice, titles.private, 'PRIVATE');
  ids.public = await createNote(alice, titles.public, 'PUBLIC');
  assert.ok(ids.private && ids.public && ids.private !== ids.public);
  assert.equal(await noteItem(alice, titles.private).getAttribute('data-visibility'), 'PRIVATE');
  assert.equal(await noteItem(alice, titles.public).getAttribute('data-visibility'), 'PUBLIC');
  await assertText(noteItem(alice, titles.public).getByTestId('note-author'), 'by Alice');
  await assertText(noteItem(alice, titles.private).getByTestId('note-author'), 'by Alice');

  await alice.screenshot({ path: SCREENSHOT, fullPage: true });
});

test('alice pages through her tenant\'s notes and deletes one', async () => {
  const extra = [];
  for (let i = 1; i <= 4; i++) extra.push(await createNote(alice, `Web page ${i} ${run}`, 'TENANT'));
  // Six notes of this run, newest first: five on the first page of five, the sixth on the next.
  await alice.getByTestId('notes').getByTestId('page-size').selectOption('5');
  const items = alice.locator('[data-testid=notes-list] [data-testid=note]');
  await alice.locator('[data-testid=notes-list][data-loaded=true]').waitFor({ state: 'attached' });
  await waitUntil(async () => (await items.count()) === 5, async () => `expected a page of 5, got ${await items.count()}`);
  // Load more until this run's six notes are listed (others may write at the same time).
  const mine = [ids.private, ids.public, ...extra];
  let listed = [];
  for (let pages = 1; ; pages++) {
    listed = await items.evaluateAll((els) => els.map((e) => e.dataset.noteId));
    if (mine.every((id) => listed.includes(id))) break;
    assert.ok(pages < 10, `this run's notes not all listed after ${pages} pages`);
    const more = alice.getByTestId('notes').getByTestId('load-more');
    assert.equal(await more.count(), 1, `no next page, yet notes missing: ${mine.filter((id) => !listed.includes(id))}`);
    const before = listed.length;
    await more.click();
    await waitUntil(async () => (await items.count()) > before, () => 'Load more added nothing');
  }
  assert.ok(listed.length > 5, 'a second page was loaded');
  assert.equal(new Set(listed).size, listed.length, 'a note listed twice across pages');

  // Delete asks once more, then the note is gone from the list.
  const doomed = noteItem(alice, `Web page 1 ${run}`);
  await doomed.getByTestId('delete').click();
  await assertText(doomed.getByTestId('delete'), 'Really delete?');
  await doomed.getByTestId('delete').click();
  await waitUntil(async () => (await noteItem(alice, `Web page 1 ${run}`).count()) === 0, () => 'the deleted note is still listed');
  await alice.getByTestId('notes').getByTestId('page-size').selectOption('10');
  await alice.locator('[data-testid=notes-list][data-loaded=true]').waitFor({ state: 'attached' });
});

test('bob signs in at globex and sees neither of alice\'s notes', async () => {
  const bob = await newPage('bob');
  await signIn(bob, 'globex', 'bob');
  const listed = await bob.locator('[data-testid=notes-list] [data-testid=note]').evaluateAll((els) => els.map((e) => e.dataset.noteId));
  assert.ok(!listed.includes(ids.private), 'bob sees alice\'s PRIVATE note');
  assert.ok(!listed.includes(ids.public), 'bob sees alice\'s PUBLIC note in globex\'s notes');
  assert.equal(await bob.getByTestId('problem').count(), 0, 'bob\'s notes loaded without a problem');
});

/** Waits until a page's list is subscribed (the server acknowledged its subscription). */
async function live(page, label) {
  const badge = page.getByTestId('live');
  try {
    await page.locator('[data-testid=live][data-state=live], [data-testid=live][data-state=off]').first().waitFor();
  } catch (e) {
    assert.fail(`${label}: live updates still ${await badge.getAttribute('data-state')} (${e.message.split('\n')[0]})`);
  }
  if ((await badge.getAttribute('data-state')) !== 'live') assert.fail(`${label}: live updates off: ${await badge.getAttribute('title')}`);
}

test('live: colleagues\' changes appear without a reload, and only where they may be read', async () => {
  // alice (acme) is signed in already; bob (globex) and a guest reading acme's public notes join.
  const bob = await newPage('bob-live');
  await signIn(bob, 'globex', 'bob');
  const guest = await newPage('guest-live');
  await guest.goto(WEB_URL);
  if ((await guest.getByTestId('tenant-picker').inputValue()) !== 'acme') await guest.getByTestId('tenant-picker').selectOption('acme');
  await guest.locator('[data-testid=public-list][data-loaded=true]').waitFor({ state: 'attached' });
  const carol = await newPage('carol');
  await signIn(carol, 'acme', 'carol');
  await Promise.all([live(alice, 'alice'), live(bob, 'bob'), live(guest, 'guest'), live(carol, 'carol')]);

  // carol writes a TENANT note: alice sees it arrive; the guest and bob do not.
  const shared = `Web live tenant ${run}`;
  const sharedId = await createNote(carol, shared, 'TENANT');
  await noteItem(alice, shared).waitFor();
  assert.equal(await noteItem(alice, shared).getAttribute('data-live'), 'created');
  assert.equal(await noteItem(alice, shared).getAttribute('data-note-id'), sharedId);
  // carol's PRIVATE note never reaches alice; a PUBLIC one reaches alice and the guest.
  const secret = `Web live private ${run}`;
  await createNote(carol, secret, 'PRIVATE');
  const open = `Web live public ${run}`;
  const openId = await createNote(carol, open, 'PUBLIC');
  await noteItem(alice, open).waitFor();
  await guest.locator(`[data-testid=public-list] [data-note-id="${openId}"]`).waitFor();
  assert.equal(await noteItem(alice, secret).count(), 0, 'alice got carol\'s PRIVATE note');
  assert.equal(await guest.locator(`[data-testid=public-list] [data-note-id="${sharedId}"]`).count(), 0, 'the guest got a TENANT note');

  // carol makes the PUBLIC note PRIVATE: it leaves alice's list and the guest's.
  await noteItem(carol, open).getByTestId('edit').click();
  await carol.getByTestId('edit-visibility').selectOption('PRIVATE');
  await carol.getByTestId('save').click();
  await waitUntil(async () => (await noteItem(alice, open).count()) === 0, () => 'the note made PRIVATE is still on alice\'s list');
  await waitUntil(async () => (await guest.locator(`[data-testid=public-list] [data-note-id="${openId}"]`).count()) === 0,
    () => 'the note made PRIVATE is still on the guest\'s list');

  // bob, in globex, received nothing of acme's.
  for (const title of [shared, secret, open]) assert.equal(await noteItem(bob, title).count(), 0, `bob got ${title}`);
  assert.equal(await bob.locator('[data-testid=note][data-live]').count(), 0, 'bob\'s list changed live');
});

test('a guest (no sign-in) sees only the PUBLIC one under acme', async () => {
  const guest = await newPage('guest');
  await guest.goto(WEB_URL);
  const picker = guest.getByTestId('tenant-picker');
  await picker.waitFor();
  if ((await picker.inputValue()) !== 'acme') await picker.selectOption('acme');
  await guest.locator('[data-testid=public-list][data-loaded=true]').waitFor({ state: 'attached' });
  await assertText(guest.getByTestId('public-notes').locator('h2'), 'Public notes of acme');
  assert.equal(await guest.getByTestId('problem').count(), 0, 'the guest view loaded without a problem');
  const listed = await guest.locator('[data-testid=public-list] [data-testid=note]').evaluateAll((els) => els.map((e) => ({ id: e.dataset.noteId, visibility: e.dataset.visibility })));
  assert.ok(listed.some((n) => n.id === ids.public), 'the guest sees the PUBLIC note');
  assert.ok(!listed.some((n) => n.id === ids.private), 'the guest does not see the PRIVATE note');
  assert.ok(listed.every((n) => n.visibility === 'PUBLIC'), 'the guest sees only PUBLIC notes');
  assert.equal(await guest.getByTestId('signed-in-as').count(), 0);
});

test('a stale edit shows the conflict message, and reloading the note lets the edit through', async () => {
  // alice opens the PUBLIC note for editing...
  await noteItem(alice, titles.public).getByTestId('edit').click();
  const form = alice.locator(`[data-testid=note][data-note-id="${ids.public}"] [data-testid=edit-form]`);
  await form.waitFor();
  const openedVersion = Number(await form.getAttribute('data-version'));

  // ...meanwhile the same note is changed elsewhere (alice in another browser profile).
  const elsewhere = await newPage('alice-elsewhere');
  await signIn(elsewhere, 'acme', 'alice');
  await noteItem(elsewhere, titles.public).getByTestId('edit').click();
  await elsewhere.getByTestId('edit-body').fill('Changed elsewhere.');
  await elsewhere.getByTestId('save').click();
  await assertText(elsewhere.locator(`[data-testid=note][data-note-id="${ids.public}"]`), `version ${openedVersion + 1}`);

  // alice saves her now-stale edit: ConflictError, as a sentence she can act on.
  await form.getByTestId('edit-body').fill('My stale edit.');
  await form.getByTestId('save').click();
  const problem = form.getByTestId('problem');
  await problem.waitFor();
  assert.equal(await problem.getAttribute('data-error-type'), 'ConflictError');
  assert.equal(await problem.textContent(), 'Someone changed this note since you opened it; reload it and try again.');

  // Reload the note: the form opens at the current version and the edit goes through.
  await form.getByTestId('reload-note').click();
  const reopened = alice.locator(`[data-testid=note][data-note-id="${ids.public}"] [data-testid=edit-form][data-version="${openedVersion + 1}"]`);
  await reopened.waitFor();
  assert.equal(await reopened.getByTestId('edit-body').inputValue(), 'Changed elsewhere.');
  await reopened.getByTestId('edit-body').fill('My edit, on the current version.');
  await reopened.getByTestId('save').click();
  await assertText(alice.locator(`[data-testid=note][data-note-id="${ids.public}"]`), `version ${openedVersion + 2}`);
});

test('the explorer signs in as bob at globex and runs { me { tenantId } }', async () => {
  const page = await newPage('explorer');
  const bob = user('globex', 'bob');
  await page.goto(new URL(`explorer.html?query=${encodeURIComponent('{ me { tenantId } }')}`, WEB_URL).toString());
  await page.getByTestId('explorer-tenant').selectOption('globex');
  await page.getByTestId('explorer-user').selectOption(bob.username);
  assert.equal(await page.getByTestId('explorer-email').inputValue(), bob.username);
  await page.getByTestId('explorer-sign-in').click();
  await assertText(page.getByTestId('explorer-session'), bob.username);

  await page.locator('.graphiql-execute-button').click();
  const response = page.locator('.graphiql-response');
  await waitUntil(async () => /"tenantId":\s*"globex"/.test(((await response.textContent()) ?? '').replace(/\u00a0/g, ' ')),
    async () => `expected globex in the explorer's response, got: ${await response.textContent()}`);

  // The app link goes back to the app, which shares the session: bob at globex. Sign-out clears it.
  await page.getByTestId('app-link').click();
  await assertText(page.getByTestId('signed-in-as'), bob.username);
  await assertText(page.getByTestId('me-tenant'), 'globex');
  await page.getByTestId('sign-out').click();
  await page.getByTestId('sign-in-section').waitFor();
  await page.reload();
  await page.getByTestId('sign-in-section').waitFor();
  assert.equal(await page.getByTestId('signed-in-as').count(), 0, 'signed out after a reload');
});

test('a sign-in with an unknown email, or at another tenant\'s pool, is refused with a sentence', async () => {
  const page = await newPage('refused-sign-in');
  await page.goto(WEB_URL);
  const bob = user('globex', 'bob');
  // bob belongs to globex: acme's pool (the one configured while acme is chosen) does not know him.
  for (const [email, password] of [[`nobody-${run}@acme.example`, 'Nobody-Local-Demo-1'], [bob.username, bob.password]]) {
    const picker = page.getByTestId('tenant-picker');
    if ((await picker.inputValue()) !== 'acme') await picker.selectOption('acme');
    await page.getByTestId('sign-in-section').getByText('Sign in to acme').waitFor();
    await page.getByTestId('email').fill(email);
    await page.getByTestId('password').fill(password);
    await page.getByTestId('sign-in').click();
    const problem = page.getByTestId('sign-in-section').getByTestId('problem');
    await problem.waitFor();
    assert.equal(await problem.textContent(), 'Wrong email or password for this tenant; check both, and that you chose your own tenant.', email);
    assert.equal(await page.getByTestId('signed-in-as').count(), 0, email);
  }
});

test('alice with a wrong password is not signed in, and the app says so in a sentence', async () => {
  // The local User Pool checks the SRP password proof as Cognito does (local/moto_server.py):
  // Amplify's PASSWORD_VERIFIER answer for a wrong password is NotAuthorizedException.
  const page = await newPage('wrong-password');
  await page.goto(WEB_URL);
  const alice = user('acme', 'alice');
  const picker = page.getByTestId('tenant-picker');
  await picker.waitFor();
  if ((await picker.inputValue()) !== 'acme') await picker.selectOption('acme');
  await page.getByTestId('sign-in-section').getByText('Sign in to acme').waitFor();
  await page.getByTestId('email').fill(alice.username);
  await page.getByTestId('password').fill(`${alice.password}-not-it`);
  await page.getByTestId('sign-in').click();
  await page.locator('[data-testid=me-tenant], [data-testid=sign-in-section] [data-testid=problem]').first().waitFor();
  const problem = page.getByTestId('sign-in-section').getByTestId('problem');
  assert.equal(await problem.count(), 1, 'alice was signed in with a wrong password');
  assert.equal(await problem.getAttribute('data-error-type'), 'NotAuthorizedException');
  assert.equal(await problem.textContent(), 'Wrong email or password for this tenant; check both, and that you chose your own tenant.');
  assert.equal(await page.getByTestId('signed-in-as').count(), 0);
  assert.equal(await page.getByTestId('me-tenant').count(), 0);
});

test('typed errors and AppSync\'s refusals are shown as sentences, not traces', async () => {
  // The guest view's request answered with each error in turn (the endpoint is bypassed).
  const cases = [
    { errorType: 'Unauthorized', sentence: /^You are not signed in to a tenant this API knows/ },
    { errorType: 'Forbidden', sentence: /^You may not do this/ },
    { errorType: 'NotFound', sentence: /^This note no longer exists/ },
    { errorType: 'ValidationError', message: 'limit must be between 1 and 100', sentence: /^The request was not accepted: limit must be between 1 and 100\. Correct it and try again\.$/ },
    { errorType: 'ConflictError', sentence: /^Someone changed this note since you opened it; reload it and try again\.$/ },
    { errorType: 'Unavailable', sentence: /^The service is busy or briefly unavailable/ },
    { errorType: 'InternalError', sentence: /^Something went wrong on the server/ },
    { status: 403, errorType: 'UnauthorizedException', sentence: /^Your session's AWS credentials were refused/ },
    { status: 403, errorType: 'ExpiredTokenException', sentence: /^Your session's AWS credentials were refused/ },
    { status: 403, errorType: 'InvalidSignatureException', sentence: /^Your session's AWS credentials were refused/ },
  ];
  const page = await newPage('errors');
  let current;
  await page.route((url) => url.origin === graphqlUrl.origin && url.pathname === graphqlUrl.pathname, async (route) => {
    const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date' };
    if (route.request().method() === 'OPTIONS') {
      return route.fulfill({ status: 200, headers: { ...cors, 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': '*' } });
    }
    const message = current.message ?? `a ${current.errorType} for the test`;
    if (current.status) {
      return route.fulfill({ status: current.status, headers: { ...cors, 'content-type': 'application/json', 'x-amzn-errortype': current.errorType },
        body: JSON.stringify({ errors: [{ errorType: current.errorType, message }] }) });
    }
    return route.fulfill({ status: 200, headers: { ...cors, 'content-type': 'application/json' },
      body: JSON.stringify({ data: null, errors: [{ path: ['publicNotes'], data: null, errorType: current.errorType, errorInfo: null, locations: [{ line: 1, column: 2, sourceName: null }], message }] }) });
  });
  for (const c of cases) {
    current = c;
    await page.goto(WEB_URL);
    await page.locator('[data-testid=public-list][data-loaded=true]').waitFor({ state: 'attached' });
    const problem = page.getByTestId('public-notes').getByTestId('problem');
    await problem.waitFor();
    const text = await problem.textContent();
    assert.match(text, c.sentence, `${c.errorType}: ${text}`);
    assert.equal(await problem.getAttribute('data-error-type'), c.errorType);
    assert.doesNotMatch(text, /\bat .*:\d+:\d+|Error:|undefined|\[object/, `${c.errorType}: looks like a trace`);
  }
});

test('every GraphQL request the pages sent was SigV4-signed and none named an identity', () => {
  assert.ok(graphqlRequests.length >= 10, `expected many GraphQL requests, saw ${graphqlRequests.length}`);
  const pages = new Set(graphqlRequests.map((r) => r.page));
  for (const p of ['alice', 'bob', 'guest', 'alice-elsewhere', 'explorer']) assert.ok(pages.has(p), `no GraphQL request recorded from ${p}`);
  for (const r of graphqlRequests) {
    assert.equal(r.method, 'POST', `${r.page}: ${r.method} ${r.url}`);
    assert.match(r.headers.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/[a-z0-9-]+\/appsync\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/,
      `${r.page}: a GraphQL request without SigV4: ${JSON.stringify(r.headers)}`);
    assert.ok(r.headers['x-amz-security-token'], `${r.page}: no session token (Identity Pool credentials are temporary)`);
    assert.ok(!('x-demo-identity' in r.headers), `${r.page}: x-demo-identity sent`);
  }
  assert.deepEqual(anyDemoHeader, [], 'no request of any page carried x-demo-identity');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the pages');
});
