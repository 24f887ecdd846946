// Runs an APPSYNC_JS resolver file (resolvers/*.js) outside AppSync, for the local endpoint and
// the handlers' unit tests. `@aws-appsync/utils` exists only inside AppSync: the source is loaded
// with that import replaced by stand-ins for what our handlers use — `util.error` (throws, which
// is how AppSync's stops the handler), `util.unauthorized`, `util.matches`, `util.transform.toSubscriptionFilter`
// and `extensions` (subscription filters and invalidations, recorded for the caller: see
// `withExtensions`). The handler may import nothing else.
import { readFileSync } from 'node:fs';
import { toSubscriptionFilter } from './subscription-filter.mjs';

/** A typed GraphQL error raised by a handler's util.error(message, type). */
export class AppSyncError extends Error {
  constructor(message, type, data, info) {
    super(message ?? 'Error');
    // What the handler passed, undefined included (Error would turn it into '').
    this.rawMessage = message;
    this.errorType = type ?? null;
    this.data = data ?? null;
    this.errorInfo = info ?? null;
  }
}

const util = {
  error(message, type, data, info) {
    throw new AppSyncError(message, type, data, info);
  },
  // AppSync's own wording for util.unauthorized().
  unauthorized() {
    throw new AppSyncError('Not Authorized to access this field', 'Unauthorized');
  },
  // Java's String.matches, as AppSync's: the whole string must match.
  matches(pattern, value) {
    return typeof value === 'string' && new RegExp(`^(?:${pattern})$`).test(value);
  },
  transform: { toSubscriptionFilter },
};

// The extension calls of the handler now running. Handlers are synchronous, so one slot is
// enough: `withExtensions` sets it around one call.
let recording = null;
const record = (op) => (arg) => {
  if (!recording) throw new Error(`extensions.${op} called outside withExtensions`);
  recording.push({ op, arg });
};
const extensions = {
  setSubscriptionFilter: record('setSubscriptionFilter'),
  setSubscriptionInvalidationFilter: record('setSubscriptionInvalidationFilter'),
  invalidateSubscriptions: record('invalidateSubscriptions'),
};

/** Runs fn(...args) and returns { value, extensions: [{ op, arg }] } (what it asked AppSync to do). */
export function withExtensions(fn, ...args) {
  const outer = recording;
  recording = [];
  try {
    const value = fn(...args);
    return { value, extensions: recording };
  } finally {
    recording = outer;
  }
}

/** Loads `path` and returns its exported functions ({ request, response, ... }). */
export function loadAppsyncJs(path) {
  const src = readFileSync(path, 'utf8')
    .replace(/^import \{[\w\s,]*\} from '@aws-appsync\/utils';$/m, '')
    .replace(/^export function /gm, 'function ');
  if (/^\s*import\b/m.test(src)) {
    throw new Error(`${path}: an APPSYNC_JS handler may import only util and extensions from @aws-appsync/utils`);
  }
  const names = [...src.matchAll(/^function (\w+)/gm)].map((m) => m[1]);
  return new Function('util', 'extensions', `${src}\nreturn { ${names.join(', ')} };`)(util, extensions);
}
