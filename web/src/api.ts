// The API's operations, each sent through Amplify's GraphQL client: `defaultAuthMode: 'iam'`, so
// every request is SigV4-signed (service appsync) with the session's Identity Pool credentials.
import { generateClient } from 'aws-amplify/api';

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
