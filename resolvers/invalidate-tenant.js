// Mutation.invalidateTenantSubscriptions(tenantId, userSub, identityId): APPSYNC_JS 1.0.0 on a
// NONE data source, for operators (tenantctl suspend, offboard, remove-user).
// - tenantId alone: ends every open subscription of the tenant on both subscription fields. Each
//   subscription resolver set an invalidation filter with the group {tenantId: {eq: <tenant>}}
//   (resolvers/subscribe.js, shared/src/realtime.rs), so AppSync unsubscribes exactly those and
//   closes their connections.
// - with userSub (the User Pool sub) and/or identityId: ends only that user's onNoteChanged
//   subscriptions in the tenant. The payload carries userTenantId, never tenantId, so it matches
//   the user's own groups {userTenantId, userSub | identityId} and no tenant-wide group. The
//   public channel is not ended: it serves public notes to anyone, guests included.
// Only the operator policy grants this field (template.yaml); no Identity Pool role does.
import { util, extensions } from '@aws-appsync/utils';

// The subscription fields that carry tenant data: each must set an invalidation filter on tenantId.
const FIELDS = ['onNoteChanged', 'onPublicNoteChanged'];
// The field whose subscriptions belong to one user (onPublicNoteChanged's belong to no one).
const USER_FIELD = 'onNoteChanged';

export function request(ctx) {
  if (ctx.identity && ctx.identity.cognitoIdentityId) {
    util.unauthorized();
  }
  const tenantId = ctx.arguments.tenantId;
  // Tenant ids are 1-64 of a-z, 0-9 and '-' (shared/src/tenancy.rs).
  if (!util.matches('[a-z0-9-]{1,64}', tenantId)) {
    util.error('tenantId must be 1-64 characters of a-z, 0-9 and \'-\'.', 'ValidationError');
  }
  const userSub = ctx.arguments.userSub;
  // A User Pool sub as the functions accept it (shared/src/identity.rs): 1-128 of [A-Za-z0-9_-].
  if (userSub !== undefined && userSub !== null && !util.matches('[A-Za-z0-9_-]{1,128}', userSub)) {
    util.error('userSub must be 1-128 characters of A-Z, a-z, 0-9, \'-\' and \'_\'.', 'ValidationError');
  }
  const identityId = ctx.arguments.identityId;
  // An Identity Pool identity id (<region>:<guid>) as the functions accept it
  // (shared/src/identity.rs): 1-128 of [A-Za-z0-9:_-].
  if (identityId !== undefined && identityId !== null && !util.matches('[A-Za-z0-9:_-]{1,128}', identityId)) {
    util.error('identityId must be an Identity Pool identity id (<region>:<guid>).', 'ValidationError');
  }
  return { payload: { tenantId: tenantId, userSub: userSub || null, identityId: identityId || null } };
}

export function response(ctx) {
  const tenantId = ctx.result.tenantId;
  const userSub = ctx.result.userSub;
  const identityId = ctx.result.identityId;
  if (userSub || identityId) {
    // At most two calls (AppSync allows five invalidateSubscriptions calls a request).
    if (userSub) {
      extensions.invalidateSubscriptions({ subscriptionField: USER_FIELD, payload: { userTenantId: tenantId, userSub: userSub } });
    }
    if (identityId) {
      extensions.invalidateSubscriptions({ subscriptionField: USER_FIELD, payload: { userTenantId: tenantId, identityId: identityId } });
    }
    return { tenantId: tenantId, subscriptionFields: [USER_FIELD] };
  }
  // One call per field: AppSync allows at most five invalidateSubscriptions calls a request.
  for (const field of FIELDS) {
    extensions.invalidateSubscriptions({ subscriptionField: field, payload: { tenantId: tenantId } });
  }
  return { tenantId: tenantId, subscriptionFields: FIELDS };
}
