// The one handler every field's resolver runs (APPSYNC_JS 1.0.0, Lambda data source).
//
// request: invokes the field's function with the parts of a Direct Lambda resolver's event the
//          functions read (arguments, identity, source, info), so the functions (and `cargo lambda
//          invoke` with events/*.json) see one shape everywhere.
// response: AppSync reports any failed invocation as `Lambda:Unhandled` and keeps only the
//          function's errorMessage. Our functions write it as "<errorType>: <message>"
//          (shared/src/error.rs); this splits it and raises the typed GraphQL error.
import { util } from '@aws-appsync/utils';

const ERROR_TYPES = ['Unauthorized', 'Forbidden', 'NotFound', 'ValidationError', 'ConflictError', 'Unavailable', 'InternalError'];

export function request(ctx) {
  return {
    operation: 'Invoke',
    // Only what the functions read. Not request (headers: a client's tokens, cookies), prev or
    // stash (nothing puts anything there): what is not sent cannot leak into a function's logs.
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
    // Not one of ours (a timeout, an out-of-memory kill): pass AppSync's own error on.
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
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
