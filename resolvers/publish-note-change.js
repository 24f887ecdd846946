// Mutation.publishNoteChange: APPSYNC_JS 1.0.0 on a NONE data source. It writes nothing; it
// exists so AppSync delivers the change to the subscriptions that name it in @aws_subscribe,
// each through the filter its subscription resolver set. Only the note-publisher function's
// role is granted this field (template.yaml); no Identity Pool role is.
//
// The change is checked here once more: the filters read the top-level routing fields
// (tenantId, ownerId, visibility, revoked, previousVisibility) while clients read `note`, so the
// two must describe the same note, and a removal must carry no note at all.
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  if (!isPublisher(ctx)) {
    util.unauthorized();
  }
  const change = ctx.arguments.change;
  const problem = inconsistency(change);
  if (problem) {
    util.error(problem, 'ValidationError');
  }
  return { payload: change };
}

export function response(ctx) {
  return ctx.result;
}

// Whether the caller is a session of the note publisher's own role. IAM already grants this field
// to that role alone, but any principal of the account with a broad `appsync:GraphQL` grant (an
// admin's `*`) would pass IAM and could push events to any tenant's subscribers. A role session's
// `username` is `<RoleId>:<session>`; the role's unique id (AROA…, never reused, not forgeable by
// naming another role alike) comes from the API's environment (template: PUBLISHER_ROLE_ID).
// Identity Pool callers (users, guests) never publish. Fails closed without the variable.
export function isPublisher(ctx) {
  const identity = ctx.identity;
  const roleId = ctx.env ? ctx.env.PUBLISHER_ROLE_ID : null;
  if (!identity || identity.cognitoIdentityId || !roleId || !identity.username) {
    return false;
  }
  return identity.username.startsWith(`${roleId}:`);
}

// Why `change` must not be published, or null.
export function inconsistency(change) {
  const note = change.note;
  if (change.kind === 'DELETED' || change.revoked) {
    if (note) {
      return 'A removal (DELETED, or revoked) carries no note.';
    }
  } else if (!note) {
    return 'CREATED and UPDATED carry the note.';
  }
  if (change.revoked && change.kind !== 'DELETED') {
    return 'A revocation is delivered as DELETED.';
  }
  if (change.revoked && !change.previousVisibility) {
    return 'A revocation names the visibility the note left.';
  }
  if (note) {
    if (note.id !== change.noteId || note.tenantId !== change.tenantId || note.ownerId !== change.ownerId || note.visibility !== change.visibility) {
      return 'The note does not match the routing fields (noteId, tenantId, ownerId, visibility).';
    }
  }
  return null;
}
