// The handler of the subscription fields (Subscription.onNoteChanged, onPublicNoteChanged):
// APPSYNC_JS 1.0.0 on the field's Lambda data source, run once when a client subscribes.
//
// request: invokes the field's function with the same event invoke.js sends. The function decides
//          who the caller is (guest, unknown provider, suspended tenant: refused with a typed
//          error, so the subscription never starts) and answers the filters for that caller.
// response: sets exactly those filters. The client's arguments are never read here: a client
//          cannot widen what it receives by sending other arguments, and since a resolver filter
//          is set, AppSync does no argument-based filtering at all. A function answer without a
//          filter fails the subscription: an unfiltered subscription would receive every event.
import { util, extensions } from '@aws-appsync/utils';

const ERROR_TYPES = ['Unauthorized', 'Forbidden', 'NotFound', 'ValidationError', 'ConflictError', 'Unavailable', 'InternalError'];

export function request(ctx) {
  return {
    operation: 'Invoke',
    payload: {
      arguments: ctx.arguments,
      identity: ctx.identity,
      source: ctx.source,
      info: ctx.info,
    },
  };
}

export function response(ctx) {
  if (ctx.error) {
    const typed = splitError(ctx.error.message);
    if (typed) {
      util.error(typed.message, typed.type);
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  const grant = ctx.result;
  if (!grant || !grant.filter || !grant.invalidationFilter) {
    util.error('The subscription function answered no filter; refusing an unfiltered subscription.', 'InternalError');
  }
  extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(grant.filter));
  extensions.setSubscriptionInvalidationFilter(util.transform.toSubscriptionFilter(grant.invalidationFilter));
  // AppSync requires a subscription resolver to return null.
  return null;
}

// "<errorType>: <message>" -> { type, message } when errorType is one of ours, else null.
export function splitError(text) {
  if (typeof text !== 'string') {
    return null;
  }
  const at = text.indexOf(': ');
  if (at < 0) {
    return null;
  }
  const type = text.substring(0, at);
  if (ERROR_TYPES.indexOf(type) < 0) {
    return null;
  }
  return { type: type, message: text.substring(at + 2) };
}
