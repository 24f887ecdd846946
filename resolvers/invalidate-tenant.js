// Mutation.invalidateTenantSubscriptions(tenantId): APPSYNC_JS 1.0.0 on a NONE data source, for
// operators (tenantctl suspend): ends every open subscription of the tenant on both subscription
// fields. Each subscription resolver set the invalidation filter {tenantId: {eq: <its tenant>}}
// (resolvers/subscribe.js), so AppSync unsubscribes exactly those and closes their connections.
// Only the operator policy grants this field (template.yaml); no Identity Pool role does.
import { util, extensions } from '@aws-appsync/utils';

// The subscription fields that carry tenant data: each must set an invalidation filter on tenantId.
const FIELDS = ['onNoteChanged', 'onPublicNoteChanged'];

export function request(ctx) {
  if (ctx.identity && ctx.identity.cognitoIdentityId) {
    util.unauthorized();
  }
  const tenantId = ctx.arguments.tenantId;
  // Tenant ids are 1-64 of a-z, 0-9 and '-' (shared/src/tenancy.rs).
  if (!util.matches('[a-z0-9-]{1,64}', tenantId)) {
    util.error('tenantId must be 1-64 characters of a-z, 0-9 and \'-\'.', 'ValidationError');
  }
  return { payload: { tenantId: tenantId } };
}

export function response(ctx) {
  const tenantId = ctx.result.tenantId;
  // One call per field: AppSync allows at most five invalidateSubscriptions calls a request.
  for (const field of FIELDS) {
    extensions.invalidateSubscriptions({ subscriptionField: field, payload: { tenantId: tenantId } });
  }
  return { tenantId: tenantId, subscriptionFields: FIELDS };
}
