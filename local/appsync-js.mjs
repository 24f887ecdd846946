// Runs an APPSYNC_JS resolver file (resolvers/*.js) outside AppSync, for the local endpoint and
// the handler's unit tests. `@aws-appsync/utils` exists only inside AppSync: the source is loaded
// with that import replaced by a `util` whose `error` throws, which is how AppSync's stops the
// handler. The handler may import nothing else.
import { readFileSync } from 'node:fs';

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
};

/** Loads `path` and returns its exported functions ({ request, response, ... }). */
export function loadAppsyncJs(path) {
  const src = readFileSync(path, 'utf8')
    .replace(/^import \{ util \} from '@aws-appsync\/utils';$/m, '')
    .replace(/^export function /gm, 'function ');
  if (/^\s*import\b/m.test(src)) {
    throw new Error(`${path}: an APPSYNC_JS handler may import only @aws-appsync/utils`);
  }
  const names = [...src.matchAll(/^function (\w+)/gm)].map((m) => m[1]);
  return new Function('util', `${src}\nreturn { ${names.join(', ')} };`)(util);
}
