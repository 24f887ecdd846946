// The API's operations, each sent through Amplify's GraphQL client: `defaultAuthMode: 'iam'`, so
// every request is SigV4-signed (service appsync) with the session's Identity Pool credentials.
import { CONNECTION_STATE_CHANGE, generateClient } from 'aws-amplify/api';
import { Hub } from 'aws-amplify/utils';

export type Visibility = 'PRIVATE' | 'TENANT' | 'PUBLIC';
export const VISIBILITIES: Visibility[] = ['PRIVATE', 'TENANT', 'PUBLIC'];

export interface Caller {
  identityId: string;
  authenticated: boolean;
  tenantId: string | null;
  provider: string | null;
}

export interface Profile {
  identityId: string;
  displayName: string;
  role: 'MEMBER' | 'ADMIN';
}

export interface Note {
  id: string;
  tenantId: string;
  ownerId: string;
  title: string;
  body: string | null;
  visibility: Visibility;
  version: number;
  createdAt: string;
  updatedAt: string;
  author: { displayName: string } | null;
}

export interface Page {
  items: Note[];
  nextToken: string | null;
}

const NOTE = 'id tenantId ownerId title body visibility version createdAt updatedAt';
export const PAGE_SIZES = [5, 10, 25, 50];
export const DEFAULT_PAGE_SIZE = 10;

/**
 * One request. A client per call: it reads the Amplify configuration in force, which changes
 * when the user picks another tenant.
 */
export async function request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const client = generateClient();
  const res = (await client.graphql({ query, variables: variables as never })) as { data: T };
  return res.data;
}

export async function me(): Promise<Caller> {
  return (await request<{ me: Caller }>('query Me { me { identityId authenticated tenantId provider } }')).me;
}

export async function myProfile(): Promise<Profile | null> {
  return (await request<{ myProfile: Profile | null }>('query MyProfile { myProfile { identityId displayName role } }')).myProfile;
}

export async function updateMyProfile(displayName: string): Promise<Profile> {
  return (
    await request<{ updateMyProfile: Profile }>(
      'mutation UpdateMyProfile($input: UpdateProfileInput!) { updateMyProfile(input: $input) { identityId displayName role } }',
      { input: { displayName } },
    )
  ).updateMyProfile;
}

/** The tenant's notes the caller may read, newest first, with each note's author (batched). */
export async function notes(limit: number, nextToken: string | null): Promise<Page> {
  return (
    await request<{ notes: Page }>(
      `query Notes($limit: Int, $nextToken: String) { notes(limit: $limit, nextToken: $nextToken) { items { ${NOTE} author { displayName } } nextToken } }`,
      { limit, nextToken },
    )
  ).notes;
}

/** PUBLIC notes of a tenant: anyone may read them, guests included. */
export async function publicNotes(tenantId: string, limit: number, nextToken: string | null): Promise<Page> {
  const page = (
    await request<{ publicNotes: { items: Omit<Note, 'author'>[]; nextToken: string | null } }>(
      `query PublicNotes($tenantId: ID!, $limit: Int, $nextToken: String) { publicNotes(tenantId: $tenantId, limit: $limit, nextToken: $nextToken) { items { ${NOTE} } nextToken } }`,
      { tenantId, limit, nextToken },
    )
  ).publicNotes;
  // Note.author is for the tenant's users only; guests see notes without their authors.
  return { items: page.items.map((n) => ({ ...n, author: null })), nextToken: page.nextToken };
}

export async function note(id: string): Promise<Note | null> {
  return (await request<{ note: Note | null }>(`query Note($id: ID!) { note(id: $id) { ${NOTE} author { displayName } } }`, { id })).note;
}

export async function createNote(input: { title: string; body: string; visibility: Visibility; clientToken: string }): Promise<Note> {
  return (
    await request<{ createNote: Note }>(
      `mutation CreateNote($input: CreateNoteInput!) { createNote(input: $input) { ${NOTE} author { displayName } } }`,
      { input },
    )
  ).createNote;
}

/** An edit names the version it was made from; a newer one on the server is a ConflictError. */
export async function updateNote(input: { id: string; title: string; body: string; visibility: Visibility; expectedVersion: number }): Promise<Note> {
  return (
    await request<{ updateNote: Note }>(
      `mutation UpdateNote($input: UpdateNoteInput!) { updateNote(input: $input) { ${NOTE} author { displayName } } }`,
      { input },
    )
  ).updateNote;
}

export async function deleteNote(id: string, expectedVersion: number): Promise<void> {
  await request('mutation DeleteNote($id: ID!, $expectedVersion: Int) { deleteNote(id: $id, expectedVersion: $expectedVersion) { id } }', { id, expectedVersion });
}

/** One change of a note, as `onNoteChanged` / `onPublicNoteChanged` deliver it. */
export interface NoteChange {
  kind: 'CREATED' | 'UPDATED' | 'DELETED';
  noteId: string;
  /** A removal for a subscriber who may no longer read the note (always DELETED, no note). */
  revoked: boolean;
  /** The note as it now is (its author is not resolved in events); null on DELETED. */
  note: Omit<Note, 'author'> | null;
}

/** The state of a live subscription, for the page to show. */
export type LiveState = { state: 'connecting' } | { state: 'live' } | { state: 'off'; reason: unknown };

const CHANGE = `kind noteId revoked note { ${NOTE} }`;

/**
 * Subscribes over AppSync's real-time WebSocket (SigV4 with the session's Identity Pool
 * credentials, like every request). What arrives is decided by the server from who the caller
 * is — the subscription takes no filter from us — so the page applies each change as it comes.
 * Returns the function that ends the subscription.
 */
function subscribe(
  query: string,
  variables: Record<string, unknown>,
  field: 'onNoteChanged' | 'onPublicNoteChanged',
  onChange: (c: NoteChange) => void,
  onState: (s: LiveState) => void,
): () => void {
  onState({ state: 'connecting' });
  const client = generateClient();
  const observable = client.graphql({ query, variables: variables as never, authMode: 'iam' }) as unknown as {
    subscribe(o: { next(v: { data: Record<string, NoteChange> }): void; error(e: unknown): void }): { unsubscribe(): void };
  };
  let ended = false;
  const sub = observable.subscribe({
    next: ({ data }) => {
      const change = data?.[field];
      if (change) onChange(change);
    },
    error: (e) => {
      if (!ended) onState({ state: 'off', reason: e });
    },
  });
  // Amplify reports on its Hub when the server acknowledged the subscription (`start_ack`) and
  // when the connection is lost (it reconnects and starts the subscription again by itself).
  const stopHub = Hub.listen('api', ({ payload }) => {
    const p = payload as { event?: string; data?: { connectionState?: string } };
    if (ended) return;
    if (p.event === 'Subscription ack') onState({ state: 'live' });
    else if (p.event === CONNECTION_STATE_CHANGE && p.data?.connectionState === 'ConnectionDisrupted') {
      onState({ state: 'off', reason: new Error('The real-time connection was lost; it is retried.') });
    }
  });
  return () => {
    ended = true;
    stopHub();
    sub.unsubscribe();
  };
}

/** Changes of every note the signed-in caller may read in its tenant. */
export function onNoteChanged(onChange: (c: NoteChange) => void, onState: (s: LiveState) => void): () => void {
  return subscribe(`subscription OnNoteChanged { onNoteChanged { ${CHANGE} } }`, {}, 'onNoteChanged', onChange, onState);
}

/** Changes of a tenant's PUBLIC notes (guests too); a note that leaves PUBLIC arrives as DELETED. */
export function onPublicNoteChanged(tenantId: string, onChange: (c: NoteChange) => void, onState: (s: LiveState) => void): () => void {
  return subscribe(
    `subscription OnPublicNoteChanged($tenantId: ID!) { onPublicNoteChanged(tenantId: $tenantId) { ${CHANGE} } }`,
    { tenantId },
    'onPublicNoteChanged',
    onChange,
    onState,
  );
}
