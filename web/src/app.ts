// The notes app: pick a tenant, sign in at its User Pool, see who the API thinks you are, and read
// and write the tenant's notes; signed out, read a tenant's PUBLIC notes as a guest.
import './style.css';
import * as api from './api';
import type { LiveState, Note, NoteChange, Page, Profile, Visibility } from './api';
import { busy, formatTime, h, showProblem } from './dom';
import { describe, UserFacingError } from './errors';
import {
  chooseTenant,
  currentTenant,
  ensureCredentials,
  guestIdentityPoolId,
  loadOutputs,
  restoreTenant,
  signInHere,
  signOutQuietly,
  signedInUser,
  tenantById,
  type Outputs,
} from './session';

const root = document.getElementById('app')!;

interface State {
  outputs: Outputs;
  user: string | null;
  caller: api.Caller | null;
  profile: Profile | null;
}
let state: State;

async function main(): Promise<void> {
  let outputs: Outputs;
  try {
    outputs = await loadOutputs();
  } catch (e) {
    root.replaceChildren(h('h1', {}, 'Notes'), h('p', { class: 'problem', role: 'alert' }, (e as Error).message));
    return;
  }
  await restoreTenant(outputs);
  state = { outputs, user: await signedInUser(), caller: null, profile: null };
  await render();
}

// ---------------------------------------------------------------- layout

async function render(): Promise<void> {
  endLive(); // a new tenant, user or guest: the old subscription is not theirs
  endLive = () => {};
  const t = currentTenant();
  const picker = h(
    'select',
    { id: 'tenant', 'data-testid': 'tenant-picker', onchange: (ev: Event) => void switchTenant((ev.target as HTMLSelectElement).value) },
    ...state.outputs.tenants.map((x) => h('option', { value: x.tenantId, selected: x.tenantId === t.tenantId }, x.tenantId)),
  );
  const who = state.user
    ? h('span', { class: 'who' }, 'Signed in as ', h('strong', { 'data-testid': 'signed-in-as' }, state.user), ' ',
        h('button', { type: 'button', 'data-testid': 'sign-out', onclick: () => void doSignOut() }, 'Sign out'))
    : h('span', { class: 'who' }, 'Not signed in');
  const header = h(
    'header',
    {},
    h('h1', {}, 'Notes'),
    h('label', {}, 'Tenant ', picker),
    who,
    h('a', { href: 'explorer.html', 'data-testid': 'explorer-link' }, 'GraphQL explorer'),
  );
  const main = h('main', {});
  root.replaceChildren(header, main);
  if (state.user) await renderSignedIn(main);
  else await renderSignedOut(main);
}

async function switchTenant(id: string): Promise<void> {
  const t = tenantById(state.outputs, id);
  if (!t) return;
  // The key step: sign out of the old tenant's pool, configure the new tenant's pool, then sign in.
  await chooseTenant(state.outputs, t);
  state = { ...state, user: null, caller: null, profile: null };
  await render();
}

async function doSignOut(): Promise<void> {
  await signOutQuietly();
  state = { ...state, user: null, caller: null, profile: null };
  await render();
}

// ---------------------------------------------------------------- signed out: sign-in + guest view

async function renderSignedOut(main: HTMLElement): Promise<void> {
  const t = currentTenant();
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, 'data-testid': 'email' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'password' });
  const submit = h('button', { type: 'submit', 'data-testid': 'sign-in' }, 'Sign in');
  const problem = h('div', { class: 'slot' });
  const form = h(
    'form',
    {
      'data-testid': 'sign-in-form',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void busy(submit, problem, async () => {
          await guestLoad; // not while the guest view is still getting guest credentials
          const out = await signInHere(email.value, password.value);
          if (!out.isSignedIn) {
            throw new UserFacingError('UnsupportedSignInStep', `Sign-in needs a step this app does not offer (${out.nextStep.signInStep}); finish it with your tenant's own sign-in page, then come back.`);
          }
          state = { ...state, user: await signedInUser() };
          await render();
        });
      },
    },
    h('label', {}, 'Email ', email),
    h('label', {}, 'Password ', password),
    submit,
  );
  const demo = (t.users ?? []).length
    ? h('p', { class: 'hint' }, 'Demo users of this tenant: ',
        ...(t.users ?? []).map((u) =>
          h('button', { type: 'button', class: 'link', onclick: () => { email.value = u.username; password.value = u.password; } }, u.username)))
    : null;
  main.append(
    h('section', { 'data-testid': 'sign-in-section' },
      h('h2', {}, `Sign in to ${t.tenantId}`),
      h('p', { class: 'hint' }, `You sign in at ${t.tenantId}'s own user pool; pick another tenant above to sign in there.`),
      form, demo, problem),
  );
  const publicSection = h('section', { 'data-testid': 'public-notes' }, h('h2', {}, `Public notes of ${t.tenantId}`));
  main.append(publicSection);
  if (!state.outputs.allowGuests) {
    publicSection.append(h('p', { class: 'hint' }, 'This stack does not allow guests; sign in to read notes.'));
    return;
  }
  // Guests always use the top-level Identity Pool (the stack's first), whichever tenant's notes.
  publicSection.append(h('p', { class: 'hint', 'data-testid': 'guest-pool' },
    `Read as a guest: no sign-in, guest credentials of Identity Pool ${guestIdentityPoolId(state.outputs)}.`));
  const list = h('ul', { class: 'notes', 'data-testid': 'public-list' });
  const more = h('div', {});
  const slot = h('div', { class: 'slot' });
  const pages = pager(list, more, slot, async (token) => {
    await ensureCredentials();
    return api.publicNotes(t.tenantId, pageSize(), token);
  }, null);
  const live = liveIndicator();
  publicSection.append(h('div', { class: 'toolbar' }, pageSizeSelect(() => void pages.reload()), live.el), list, more, slot);
  guestLoad = pages.reload();
  await guestLoad;
  // After the first page: the guest credentials are there, and nothing races for them.
  endLive = api.onPublicNoteChanged(t.tenantId, (c) => void applyChange(list, c, null), live.set);
}

/** The guest view's first load: a sign-in waits for it, so the two never race for credentials. */
let guestLoad: Promise<void> = Promise.resolve();

// ---------------------------------------------------------------- signed in

async function renderSignedIn(main: HTMLElement): Promise<void> {
  const t = currentTenant();
  const callerSection = h('section', { 'data-testid': 'caller' }, h('h2', {}, 'You, to the API'));
  const profileSlot = h('div', {});
  const newSection = h('section', { 'data-testid': 'new-note' }, h('h2', {}, 'New note'));
  const notesSection = h('section', { 'data-testid': 'notes' }, h('h2', {}, `Notes of ${t.tenantId}`));
  main.append(callerSection, profileSlot, newSection, notesSection);

  const callerSlot = h('div', { class: 'slot' });
  callerSection.append(callerSlot);
  await busy(null, callerSlot, async () => {
    const [caller, profile] = await Promise.all([api.me(), api.myProfile()]);
    state = { ...state, caller, profile };
    callerSection.append(
      h('dl', { class: 'caller' },
        h('dt', {}, 'identityId'), h('dd', { 'data-testid': 'me-identity' }, caller.identityId),
        h('dt', {}, 'tenantId'), h('dd', { 'data-testid': 'me-tenant' }, caller.tenantId ?? '—'),
        h('dt', {}, 'provider'), h('dd', { 'data-testid': 'me-provider' }, caller.provider ?? '—'),
        h('dt', {}, 'role'), h('dd', { 'data-testid': 'me-role' }, profile?.role ?? 'MEMBER (no profile yet)')),
    );
    renderProfile(profileSlot);
  });

  renderCreateForm(newSection, () => void reloadNotes());

  const list = h('ul', { class: 'notes', 'data-testid': 'notes-list' });
  const more = h('div', {});
  const slot = h('div', { class: 'slot' });
  const pages = pager(list, more, slot, (token) => api.notes(pageSize(), token), () => pages.reload());
  reloadNotes = () => pages.reload();
  const reload = h('button', { type: 'button', 'data-testid': 'reload-notes', onclick: () => void pages.reload() }, 'Reload');
  const live = liveIndicator();
  notesSection.append(h('div', { class: 'toolbar' }, reload, pageSizeSelect(() => void pages.reload()), live.el), list, more, slot);
  await pages.reload();
  endLive = api.onNoteChanged((c) => void applyChange(list, c, () => pages.reload()), live.set);
}

// ---------------------------------------------------------------- live updates

/** Ends the page's subscription (render() calls it before drawing anything else). */
let endLive: () => void = () => {};

/** "Live" next to a list: whether its subscription is acknowledged, or why it is not. */
function liveIndicator(): { el: HTMLElement; set: (s: LiveState) => void } {
  const el = h('span', { class: 'live', 'data-testid': 'live', 'data-state': 'connecting', role: 'status' }, 'Connecting live updates…');
  const set = (s: LiveState) => {
    el.dataset.state = s.state;
    el.removeAttribute('title');
    if (s.state === 'live') el.textContent = '● Live';
    else if (s.state === 'connecting') el.textContent = 'Connecting live updates…';
    else {
      const p = describe(s.reason);
      el.textContent = 'Live updates off (Reload shows changes)';
      // A local stack's wss:// endpoint presents a certificate made for the run (scripts/local.sh).
      const local = state.outputs.realtimeCaCertificate
        ? ` The local stack's real-time endpoint uses a certificate made for this run: open ${new URL(state.outputs.graphqlUrl).origin.replace(/^http:/, 'https:')}/ once in this browser and accept it, then reload.`
        : '';
      el.title = `${p.sentence}${p.detail ? ` (${p.detail})` : ''}${local}`;
    }
  };
  return { el, set };
}

/**
 * Applies one change to a list on screen. The server decided that this caller may read what
 * arrives (the subscription's filter is set from its identity, not by us); a signed-in list
 * fetches the note again for its author (events carry none), and drops it when the read says it
 * is gone. A note open in its edit form is left alone: saving it meets the new version as a
 * ConflictError, with the way to reload it.
 */
async function applyChange(list: HTMLElement, c: NoteChange, changed: (() => Promise<void>) | null): Promise<void> {
  const existing = list.querySelector<HTMLLIElement>(`li[data-note-id="${CSS.escape(c.noteId)}"]`);
  if (existing?.querySelector('[data-testid="edit-form"]')) return;
  let fresh: Note | null = null;
  if (c.kind !== 'DELETED' && c.note) {
    try {
      fresh = changed ? await api.note(c.noteId) : { ...c.note, author: null };
    } catch {
      return; // the list's Reload still shows it
    }
  }
  // The list was reloaded meanwhile, or another event placed the note: look again.
  const current = list.querySelector<HTMLLIElement>(`li[data-note-id="${CSS.escape(c.noteId)}"]`);
  if (!fresh) {
    current?.remove();
    if (list.dataset.loaded === 'true' && list.children.length === 0) list.append(h('li', { class: 'empty' }, 'No notes yet.'));
    return;
  }
  const view = noteView(fresh, changed);
  view.dataset.live = c.kind.toLowerCase();
  if (current) current.replaceWith(view);
  else {
    list.querySelector('li.empty')?.remove();
    list.prepend(view); // newest first, as the list is ordered
  }
}

let reloadNotes: () => Promise<void> = async () => {};

/** The display name other users see as the author of your notes (Note.author). */
function renderProfile(slot: HTMLElement, saved?: string): void {
  const p = state.profile;
  const name = h('input', { type: 'text', name: 'displayName', maxlength: 80, required: true, 'data-testid': 'display-name',
    value: p?.displayName ?? suggestedName() });
  const save = h('button', { type: 'submit', 'data-testid': 'save-profile' }, p ? 'Rename' : 'Save');
  const problem = h('div', { class: 'slot' }, saved ? h('p', { class: 'ok', 'data-testid': 'profile-saved' }, saved) : null);
  const form = h('form', {
    'data-testid': 'profile-form',
    onsubmit: (ev: Event) => {
      ev.preventDefault();
      void busy(save, problem, async () => {
        state.profile = await api.updateMyProfile(name.value.trim());
        renderProfile(slot, `Saved: your notes show “${state.profile.displayName}” as their author.`);
      });
    },
  }, h('label', {}, 'Display name ', name), save);
  slot.replaceChildren(
    h('section', { 'data-testid': 'profile' }, h('h2', {}, 'Your profile'),
      p ? null : h('p', { class: 'hint' }, 'You have no profile yet: your notes show no author until you save a display name.'),
      form, problem),
  );
}

function suggestedName(): string {
  const t = currentTenant();
  const demo = (t.users ?? []).find((u) => u.username === state.user);
  if (demo) return demo.name.charAt(0).toUpperCase() + demo.name.slice(1);
  return (state.user ?? '').split('@')[0];
}

function renderCreateForm(section: HTMLElement, created: () => void): void {
  let clientToken = crypto.randomUUID(); // the same token on a retry of the same note: no duplicate
  const title = h('input', { type: 'text', name: 'title', required: true, maxlength: 200, 'data-testid': 'new-title' });
  const body = h('textarea', { name: 'body', rows: 3, 'data-testid': 'new-body' });
  const visibility = visibilitySelect('PRIVATE', 'new-visibility');
  const submit = h('button', { type: 'submit', 'data-testid': 'create' }, 'Create');
  const problem = h('div', { class: 'slot' });
  const form = h('form', {
    'data-testid': 'create-form',
    oninput: () => { clientToken = crypto.randomUUID(); }, // changed content: a new note
    onsubmit: (ev: Event) => {
      ev.preventDefault();
      void busy(submit, problem, async () => {
        await api.createNote({ title: title.value, body: body.value, visibility: visibility.value as Visibility, clientToken });
        clientToken = crypto.randomUUID();
        form.reset();
        created();
      });
    },
  },
  h('label', {}, 'Title ', title),
  h('label', {}, 'Body ', body),
  h('label', {}, 'Visibility ', visibility),
  submit);
  section.append(form, problem);
}

function visibilitySelect(current: Visibility, testid: string): HTMLSelectElement {
  return h('select', { name: 'visibility', 'data-testid': testid },
    ...api.VISIBILITIES.map((v) => h('option', { value: v, selected: v === current }, v)));
}

// ---------------------------------------------------------------- note lists

const PAGE_SIZE_KEY = 'notes-web.pageSize';
function pageSize(): number {
  const n = Number(localStorage.getItem(PAGE_SIZE_KEY));
  return api.PAGE_SIZES.includes(n) ? n : api.DEFAULT_PAGE_SIZE;
}

/** "per page" for a list; a change reloads it from the first page. */
function pageSizeSelect(reload: () => void): HTMLLabelElement {
  const select = h('select', { 'data-testid': 'page-size', onchange: () => { localStorage.setItem(PAGE_SIZE_KEY, select.value); reload(); } },
    ...api.PAGE_SIZES.map((n) => h('option', { value: n, selected: n === pageSize() }, String(n))));
  return h('label', { class: 'inline' }, 'Per page ', select);
}

/**
 * A paged list: `reload()` starts again from the first page, "Load more" appends the next page
 * while there is one. A reload supersedes whatever is still loading, so pages never mix. `changed`
 * is how an edit or a delete refreshes the list; null for read-only (guest) lists.
 */
function pager(list: HTMLElement, more: HTMLElement, slot: HTMLElement, fetchPage: (token: string | null) => Promise<Page>,
  changed: (() => Promise<void>) | null): { reload: () => Promise<void> } {
  let generation = 0;
  async function load(token: string | null, gen: number): Promise<void> {
    let page: Page | undefined;
    try {
      page = await fetchPage(token);
    } catch (e) {
      if (gen === generation) showProblem(slot, e);
    }
    if (gen !== generation) return; // a newer reload owns the list
    if (page) {
      if (page.items.length === 0 && list.children.length === 0) list.append(h('li', { class: 'empty' }, 'No notes yet.'));
      for (const n of page.items) {
        // A live update may have placed this note while the page was on its way: the page's copy wins.
        list.querySelector(`li[data-note-id="${CSS.escape(n.id)}"]`)?.remove();
        list.append(noteView(n, changed));
      }
      more.replaceChildren();
      if (page.nextToken) {
        const next = page.nextToken;
        const btn = h('button', { type: 'button', 'data-testid': 'load-more', onclick: () => { btn.disabled = true; void load(next, gen); } }, 'Load more');
        more.append(btn);
      }
    }
    list.dataset.loaded = 'true'; // a page came (or its problem is shown): tests wait for this
  }
  return {
    reload: () => {
      generation += 1;
      delete list.dataset.loaded;
      list.replaceChildren();
      more.replaceChildren();
      slot.replaceChildren();
      return load(null, generation);
    },
  };
}

function canChange(n: Note): boolean {
  return state.caller?.identityId === n.ownerId || (state.profile?.role === 'ADMIN' && n.visibility !== 'PRIVATE');
}

function noteView(n: Note, changed: (() => Promise<void>) | null): HTMLLIElement {
  const li = h('li', { class: 'note', 'data-testid': 'note', 'data-note-id': n.id, 'data-title': n.title, 'data-visibility': n.visibility });
  const slot = h('div', { class: 'slot' });
  const show = (note: Note) => {
    const actions = changed && canChange(note)
      ? h('div', { class: 'actions' },
          h('button', { type: 'button', 'data-testid': 'edit', onclick: () => edit(note) }, 'Edit'),
          deleteButton(note, slot, changed))
      : null;
    li.replaceChildren(...([
      h('div', { class: 'note-head' },
        h('strong', { class: 'title', 'data-testid': 'note-title' }, note.title), ' ',
        h('span', { class: `badge ${note.visibility.toLowerCase()}`, 'data-testid': 'note-visibility' }, note.visibility)),
      note.body ? h('p', { class: 'body' }, note.body) : null,
      h('p', { class: 'meta' },
        changed ? h('span', { 'data-testid': 'note-author' }, `by ${note.author?.displayName ?? 'an author without a profile'}`) : null,
        changed ? ' · ' : null,
        `updated ${formatTime(note.updatedAt)} · version ${note.version}`),
      actions, slot] as (HTMLElement | null)[]).filter((x): x is HTMLElement => x !== null));
  };
  // The edit form remembers the version it was opened at and sends it as expectedVersion.
  const edit = (opened: Note) => {
    const title = h('input', { type: 'text', required: true, maxlength: 200, value: opened.title, 'data-testid': 'edit-title' });
    const body = h('textarea', { rows: 3, 'data-testid': 'edit-body' });
    body.value = opened.body ?? '';
    const visibility = visibilitySelect(opened.visibility, 'edit-visibility');
    const save = h('button', { type: 'submit', 'data-testid': 'save' }, 'Save');
    const problem = h('div', { class: 'slot' });
    const form = h('form', {
      'data-testid': 'edit-form',
      'data-version': opened.version,
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        problem.replaceChildren();
        save.disabled = true;
        api.updateNote({ id: opened.id, title: title.value, body: body.value, visibility: visibility.value as Visibility, expectedVersion: opened.version })
          .then((saved) => { li.dataset.title = saved.title; li.dataset.visibility = saved.visibility; show({ ...saved, author: saved.author ?? opened.author }); })
          .catch((e) => {
            const p = showProblem(problem, e);
            if (p.type === 'ConflictError' || p.type === 'NotFound') problem.append(reloadButton(opened.id));
          })
          .finally(() => { save.disabled = false; });
      },
    },
    h('label', {}, 'Title ', title),
    h('label', {}, 'Body ', body),
    h('label', {}, 'Visibility ', visibility),
    save, ' ',
    h('button', { type: 'button', 'data-testid': 'cancel', onclick: () => show(opened) }, 'Cancel'),
    problem);
    li.replaceChildren(form);
  };
  // Reloading shows the note as it is now; the user edits that version.
  const reloadButton = (id: string) => h('button', { type: 'button', 'data-testid': 'reload-note', onclick: async () => {
    try {
      const fresh = await api.note(id);
      if (fresh) { li.dataset.title = fresh.title; show(fresh); edit(fresh); } else if (changed) await changed();
    } catch (e) {
      showProblem(slot, e);
    }
  } }, 'Reload this note');
  show(n);
  return li;
}

function deleteButton(n: Note, slot: HTMLElement, changed: () => Promise<void>): HTMLButtonElement {
  let armed = false;
  const btn: HTMLButtonElement = h('button', { type: 'button', 'data-testid': 'delete', onclick: () => {
    if (!armed) { armed = true; btn.textContent = 'Really delete?'; return; }
    void busy(btn, slot, async () => {
      await api.deleteNote(n.id, n.version);
      await changed();
    });
  } }, 'Delete');
  return btn;
}

window.addEventListener('unhandledrejection', (ev) => {
  const p = describe(ev.reason);
  const banner = h('p', { class: 'problem', role: 'alert', 'data-testid': 'problem', 'data-error-type': p.type, title: p.detail ?? '' }, p.sentence);
  root.prepend(banner);
});

void main();
