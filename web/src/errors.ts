// Every failure the app can meet, as one sentence the user can act on — never a stack trace.
//
// GraphQL errors carry AppSync's `errorType`: the API's own types (the functions' AppError) and
// AppSync's refusals of a request before any resolver runs (SigV4 / IAM). Amplify reports a
// refused HTTP request as a GraphQL error whose `originalError` names the AWS error; sign-in
// failures are Amplify AuthErrors named after Cognito's exceptions.

/** A failure whose message is already the sentence for the user. */
export class UserFacingError extends Error {
  constructor(type: string, sentence: string) {
    super(sentence);
    this.name = type;
  }
}

export interface Problem {
  /** errorType, AWS error name, or a local kind (Network, Unknown). */
  type: string;
  /** The sentence shown to the user. */
  sentence: string;
  /** The server's own message, when it is meant for clients. */
  detail?: string;
}

const API_SENTENCES: Record<string, string> = {
  Unauthorized: 'You are not signed in to a tenant this API knows, or guests may not do this; sign in and try again.',
  Forbidden: 'You may not do this: your tenant may be suspended, or only the note\'s owner or a tenant admin may change it.',
  NotFound: 'This note no longer exists, or you may not see it; reload the list.',
  ValidationError: 'The request was not accepted; correct the fields and try again.',
  ConflictError: 'Someone changed this note since you opened it; reload it and try again.',
  Unavailable: 'The service is busy or briefly unavailable; wait a moment and try again.',
  InternalError: 'Something went wrong on the server; try again later, and report it if it keeps happening.',
};

// AppSync's own refusals (AWS_IAM): the request's signature or credentials, not the user's input.
const CREDENTIAL_REFUSALS = new Set([
  'UnauthorizedException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'ExpiredTokenException',
  'AccessDeniedException',
]);
const CREDENTIALS_REFUSED = 'Your session\'s AWS credentials were refused (expired or not valid for this API); sign out, sign in again and retry.';

const AUTH_SENTENCES: Record<string, string> = {
  NotAuthorizedException: 'Wrong email or password for this tenant; check both, and that you chose your own tenant.',
  UserNotFoundException: 'Wrong email or password for this tenant; check both, and that you chose your own tenant.',
  UserNotConfirmedException: 'This account is not confirmed yet; confirm it first, then sign in.',
  PasswordResetRequiredException: 'This account must reset its password before signing in.',
  TooManyRequestsException: 'Too many attempts; wait a minute and try again.',
  LimitExceededException: 'Too many attempts; wait a minute and try again.',
  UserAlreadyAuthenticatedException: 'Someone is already signed in; sign out first.',
  EmptySignInUsername: 'Enter your email.',
  EmptySignInPassword: 'Enter your password.',
};

const GUESTS_REFUSED = /Unauthenticated access is not supported/i;

function isNetworkError(e: { name?: string; message?: string }): boolean {
  return e.name === 'NetworkError' || /Failed to fetch|NetworkError|Load failed|network error/i.test(e.message ?? '');
}

type ErrorLike = { name?: string; message?: string; errorType?: string | null; originalError?: ErrorLike; underlyingError?: ErrorLike };

/** One sentence for any thrown value: a GraphQL result with errors, an AuthError, an Error. */
export function describe(thrown: unknown): Problem {
  if (thrown instanceof UserFacingError) return { type: thrown.name, sentence: thrown.message };
  const t = thrown as { errors?: ErrorLike[] } & ErrorLike;
  if (t && Array.isArray(t.errors) && t.errors.length > 0) return describeGraphQLError(t.errors[0]);
  if (t && typeof t === 'object') return describeError(t);
  return { type: 'Unknown', sentence: `Something went wrong: ${String(thrown)}` };
}

function describeGraphQLError(e: ErrorLike): Problem {
  const type = e.errorType ?? undefined;
  if (type && API_SENTENCES[type]) {
    const p: Problem = { type, sentence: API_SENTENCES[type] };
    // The API's ValidationError, NotFound and Forbidden messages are written for clients.
    if (type === 'ValidationError' && e.message) p.sentence = `The request was not accepted: ${e.message.replace(/\.?$/, '.')} Correct it and try again.`;
    if (e.message) p.detail = e.message;
    return p;
  }
  if (type && CREDENTIAL_REFUSALS.has(type)) return { type, sentence: CREDENTIALS_REFUSED, detail: e.message };
  if (e.originalError) return describeError(e.originalError, e.message);
  if (type) return { type, sentence: `The API refused the request (${type}); reload the page and try again.`, detail: e.message };
  return { type: 'Unknown', sentence: `The API answered with an error: ${e.message ?? 'no message'}` };
}

function describeError(e: ErrorLike, outerMessage?: string): Problem {
  const name = e.name ?? 'Error';
  const message = e.message ?? outerMessage ?? '';
  if (GUESTS_REFUSED.test(message)) {
    return { type: name, sentence: 'This stack does not allow guests; sign in to read notes.', detail: message };
  }
  if (CREDENTIAL_REFUSALS.has(name)) return { type: name, sentence: CREDENTIALS_REFUSED, detail: message };
  if (name === 'BadRequestException' && /Signature (expired|not yet current)/.test(message)) {
    return { type: name, sentence: 'This device\'s clock is more than five minutes off; correct the clock and reload.', detail: message };
  }
  if (AUTH_SENTENCES[name]) return { type: name, sentence: AUTH_SENTENCES[name], detail: message };
  if (name === 'NoValidCredentials' || name === 'NoSignedUser' || /No credentials/i.test(message)) {
    return { type: name, sentence: 'There is no session to sign this request with; sign in (or allow guests) and try again.', detail: message };
  }
  if (isNetworkError(e)) {
    return { type: 'Network', sentence: 'The API could not be reached; check your connection, or that the stack is running, and try again.', detail: message };
  }
  if (e.underlyingError && e.underlyingError !== e) return describeError(e.underlyingError, message);
  return { type: name, sentence: `Something went wrong (${name}); reload the page and try again.`, detail: message };
}
