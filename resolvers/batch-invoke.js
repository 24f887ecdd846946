// The handler of batched nested fields (Note.author): like invoke.js, but with BatchInvoke, so
// AppSync sends the function one array of events (up to the resolver's MaxBatchSize) and hands
// each parent its element of the array the function returns. APPSYNC_JS files cannot import
// each other, so `response` and `splitError` repeat invoke.js; the unit tests run both files
// through the same cases.
import { util } from '@aws-appsync/utils';

const ERROR_TYPES = ['Unauthorized', 'Forbidden', 'NotFound', 'ValidationError', 'ConflictError', 'Unavailable', 'InternalError'];

export function request(ctx) {
  return {
    operation: 'BatchInvoke',
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
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}

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
