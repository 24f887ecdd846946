// The Cognito Identity Pool's data plane, served locally: GetId and GetCredentialsForIdentity
// over Cognito Identity's own wire protocol (awsJson1.1, `X-Amz-Target:
// AWSCognitoIdentityService.<Operation>`), so any AWS SDK or Amplify pointed at this endpoint works
// unchanged. Everything else (Create/Describe/Update/ListIdentityPools, ...) is proxied to moto
// unchanged: moto keeps the pool's configuration, and it is read back on every call, so an
// UpdateIdentityPool (a tenant onboarded later) takes effect at once.
//
// moto's own GetId ignores `Logins` and its GetCredentialsForIdentity returns fixed keys, so these
// two are ours. They check every login token as Cognito does: the provider must be listed in the
// pool, the id token's RS256 signature must verify against the issuing User Pool's JWKS (moto's),
// `iss` must be the provider, `token_use` id, `aud` the client id the pool lists for that
// provider, and `exp` not passed; anything else is NotAuthorizedException, HTTP 400.
//
// The pools' roles are ours too (moto has no Get/SetIdentityPoolRoles): the first pool's come
// from template.yaml's IdentityPoolRoles, as CloudFormation attaches them; a pool tenantctl
// creates gets its roles with SetIdentityPoolRoles. The roles live in moto's IAM (created here
// from the template, as CloudFormation would), and their trust is read from there on every
// credential request, so tenantctl's UpdateAssumeRolePolicy (a pool added to the trust) takes
// effect at once — and a pool it did not add is refused, as STS refuses it.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { CognitoIdentityClient, DescribeIdentityPoolCommand, ListIdentityPoolsCommand } from '@aws-sdk/client-cognito-identity';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { Refusal, verifySigV4 } from './sigv4.mjs';
import { evaluate } from './iam/evaluate.mjs';
import { runSimulation } from '@cloud-copilot/iam-simulate';

const TARGET_PREFIX = 'AWSCognitoIdentityService.';
// Cognito Identity actions IAM authorizes on "*" only.
const NO_RESOURCE_TYPE = new Set(['CreateIdentityPool', 'SetIdentityPoolRoles', 'ListIdentityPools', 'GetId', 'GetCredentialsForIdentity', 'GetOpenIdToken', 'UnlinkIdentity']);
const CREDENTIALS_TTL_SECONDS = 3600;

/** Cognito Identity's error answers: HTTP 400 with `{"__type","message"}`, as awsJson1.1 does. */
export class CognitoError extends Error {
  constructor(type, message, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}
const notAuthorized = (message) => new CognitoError('NotAuthorizedException', message);

/**
 * Would STS let Cognito assume `role` for this identity? The role's trust policy, evaluated for
 * sts:AssumeRoleWithWebIdentity by the federated principal cognito-identity.amazonaws.com with the
 * keys Cognito puts in the web identity token: aud (the Identity Pool id), sub (the identity id),
 * amr (["authenticated", "<provider>", "<provider>:CognitoSignIn:<sub>"] or ["unauthenticated"]).
 * { allowed, context } — Cognito answers a refusal with InvalidIdentityPoolConfigurationException.
 */
export async function roleTrustAllows(role, { identityPoolId, identityId, provider, sub }) {
  const amr = provider ? ['authenticated', provider, `${provider}:CognitoSignIn:${sub}`] : ['unauthenticated'];
  const context = {
    'cognito-identity.amazonaws.com:aud': identityPoolId,
    'cognito-identity.amazonaws.com:sub': identityId,
    'cognito-identity.amazonaws.com:amr': amr,
  };
  const sim = await runSimulation({
    request: { principal: 'cognito-identity.amazonaws.com', action: 'sts:AssumeRoleWithWebIdentity', resource: { resource: role.roleArn, accountId: role.roleArn.split(':')[4] }, contextVariables: context },
    identityPolicies: [],
    resourcePolicy: role.trust,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }, {});
  return { allowed: sim.resultType === 'single' && sim.result.analysis.resourceAnalysis?.result === 'Allowed', context };
}

// Cognito's messages for refused logins.
const MSG = {
  unsupportedProvider: 'Token is not from a supported provider of this identity pool.',
  badSignature: "Invalid login token. Couldn't verify signed token.",
  notIdToken: 'Invalid login token. Not a valid OpenId Connect identity token.',
  issuer: "Invalid login token. Issuer doesn't match providerName",
  audience: 'Invalid login token. Incorrect token audience.',
  expired: (exp, now) => `Invalid login token. Token expired: ${exp} >= ${now}`,
  noGuests: 'Unauthenticated access is not supported for this identity pool.',
  loginsDontMatch: "Logins don't match. Please include at least one valid login for this identity or identity pool.",
};

/**
 * The identity id of (pool, provider, sub): `<region>:<uuid>`, the uuid taken from sha256 of the
 * three, so the same user gets the same id on every sign-in and across restarts without any
 * stored state (Cognito stores the mapping; a hash gives the same answer).
 */
export function identityIdFor(identityPoolId, provider, sub) {
  const h = createHash('sha256').update(`${identityPoolId}\n${provider}\n${sub}`).digest();
  h[6] = (h[6] & 0x0f) | 0x40; // shaped like the random (v4) uuids Cognito hands out
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  const region = identityPoolId.split(':')[0];
  return `${region}:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function accessKeyId() {
  // ASIA + 16 upper-case alphanumerics, the shape of an STS temporary key id.
  return `ASIA${[...randomBytes(16)].map((b) => UPPER_ALNUM[b % UPPER_ALNUM.length]).join('')}`;
}

/**
 * The credentials the Identity Pool issued, in memory, for the GraphQL endpoint to verify
 * signatures with and to know whose they are. Every GetCredentialsForIdentity issues a new key.
 */
export class CredentialStore {
  constructor({ now = () => Date.now() } = {}) {
    this.now = now;
    this.keys = new Map();
  }

  /** who: { identityId, identityPoolId, provider (null for guests), sub } */
  issue(who) {
    this.prune();
    const expiresAt = Math.floor(this.now() / 1000) * 1000 + CREDENTIALS_TTL_SECONDS * 1000;
    const rec = {
      accessKeyId: accessKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(240).toString('base64'),
      expiresAt,
      who,
    };
    this.keys.set(rec.accessKeyId, rec);
    return rec;
  }

  lookup(accessKeyId) {
    return this.keys.get(accessKeyId) ?? null;
  }

  prune() {
    // Expired keys are kept a while so a late request gets ExpiredTokenException, not "invalid".
    const cutoff = this.now() - 24 * 3600 * 1000;
    for (const [k, rec] of this.keys) if (rec.expiresAt < cutoff) this.keys.delete(k);
  }
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date',
};

/** Answers a CORS preflight so a browser app on another origin may call this endpoint. */
export function answerPreflight(req, res, methods = 'POST, OPTIONS') {
  res.writeHead(200, {
    ...CORS_HEADERS,
    'access-control-allow-methods': methods,
    'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization,content-type,x-amz-date,x-amz-security-token,x-amz-target,x-amz-user-agent',
    'access-control-max-age': '86400',
    'content-length': '0',
  });
  res.end();
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * The Identity endpoint: `handle(req, res)` for an http server.
 *   motoUrl: moto_server (Identity Pool configuration, User Pool JWKS)
 *   store: the CredentialStore the GraphQL endpoint verifies signatures against
 */
export function createIdentityService({ motoUrl, store, principals = null, roles = null, firstPoolId = null, iamLog = () => {}, region = 'eu-central-1', now = () => Date.now() }) {
  // The control-plane calls are signed like any SDK's; moto accepts any key.
  const motoClient = { region, endpoint: motoUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
  const control = new CognitoIdentityClient(motoClient);
  const iam = new IAMClient({ ...motoClient, region: 'us-east-1' });
  // poolId -> { authenticated, unauthenticated } role ARNs (GetIdentityPoolRoles' `Roles`).
  const poolRoles = new Map();
  if (roles && firstPoolId) {
    poolRoles.set(firstPoolId, Object.fromEntries(Object.entries(roles).filter(([, r]) => r).map(([k, r]) => [k, r.roleArn])));
  }
  // The template's roles in moto's IAM, once (what `sam deploy` creates).
  let rolesInIam = null;
  const ensureRoles = () => {
    rolesInIam ??= (async () => {
      for (const r of Object.values(roles ?? {}).filter(Boolean)) {
        const path = r.roleArn.slice(r.roleArn.indexOf(':role/') + 5, r.roleArn.length - r.roleName.length);
        try {
          await iam.send(new CreateRoleCommand({ RoleName: r.roleName, Path: path, AssumeRolePolicyDocument: JSON.stringify(r.trust) }));
        } catch (e) {
          if (e.name !== 'EntityAlreadyExistsException' && e.name !== 'EntityAlreadyExists') throw e;
        }
      }
    })().catch((e) => {
      rolesInIam = null;
      throw e;
    });
    return rolesInIam;
  };
  /** The role `arn` names, with its trust as IAM holds it now; null if there is no such role. */
  async function roleNow(arn) {
    const role = (principals?.roles ?? []).find((r) => r.roleArn === arn);
    if (!role) return null;
    await ensureRoles();
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: role.roleName }));
    return { ...role, trust: JSON.parse(decodeURIComponent(Role.AssumeRolePolicyDocument)) };
  }
  const jwks = new Map(); // poolId -> jose remote JWKS (fetched from moto, cached)
  const guests = new Map(); // guest identity id -> identity pool id (Cognito keeps these; so do we, in memory)
  const users = new Set(); // authenticated identity ids handed out since start (for the right refusal)

  async function describePool(identityPoolId) {
    try {
      return await control.send(new DescribeIdentityPoolCommand({ IdentityPoolId: identityPoolId }));
    } catch (e) {
      if (e.name === 'ResourceNotFoundException') throw new CognitoError(e.name, e.message);
      throw e;
    }
  }

  /** Verifies one `Logins` entry against the pool's configuration; { provider, sub } or throws. */
  async function verifyLogin(pool, provider, token) {
    const listed = (pool.CognitoIdentityProviders ?? []).find((p) => p.ProviderName === provider);
    // Only User Pool providers run locally (no OIDC, SAML or Google here).
    const m = /^cognito-idp\.([a-z0-9-]+)\.amazonaws\.com\/([\w-]+_[0-9A-Za-z]+)$/.exec(provider);
    if (!listed || !m) throw notAuthorized(MSG.unsupportedProvider);
    const poolId = m[2];
    if (typeof token !== 'string' || token.split('.').length !== 3) throw notAuthorized(MSG.notIdToken);
    let keys = jwks.get(poolId);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(`${motoUrl}/${poolId}/.well-known/jwks.json`), { cooldownDuration: 1000 });
      jwks.set(poolId, keys);
    }
    const nowSeconds = Math.floor(now() / 1000);
    let claims;
    try {
      // Signature first: nothing a forged token claims is looked at before it verifies.
      ({ payload: claims } = await jwtVerify(token, keys, { algorithms: ['RS256'], currentDate: new Date(now()) }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw notAuthorized(MSG.expired(e.payload.exp, nowSeconds));
      if (e instanceof joseErrors.JOSEError) throw notAuthorized(MSG.badSignature);
      throw e;
    }
    if (claims.iss !== `https://${provider}`) throw notAuthorized(MSG.issuer);
    if (claims.token_use !== 'id') throw notAuthorized(MSG.notIdToken);
    const aud = [].concat(claims.aud ?? []);
    if (!aud.includes(listed.ClientId)) throw notAuthorized(MSG.audience);
    if (typeof claims.sub !== 'string' || claims.sub === '') throw notAuthorized(MSG.notIdToken);
    return { provider, sub: claims.sub };
  }

  /** All logins verified; the identity is the first provider's (by key order). */
  async function verifyLogins(pool, logins) {
    const entries = Object.entries(logins).sort(([a], [b]) => a.localeCompare(b));
    const verified = [];
    for (const [provider, token] of entries) verified.push(await verifyLogin(pool, provider, token));
    return verified[0];
  }

  async function getId(input) {
    if (typeof input.IdentityPoolId !== 'string') throw new CognitoError('InvalidParameterException', 'IdentityPoolId is required.');
    const pool = await describePool(input.IdentityPoolId);
    const logins = input.Logins ?? {};
    if (Object.keys(logins).length === 0) {
      if (!pool.AllowUnauthenticatedIdentities) throw notAuthorized(MSG.noGuests);
      const id = `${input.IdentityPoolId.split(':')[0]}:${randomUUID()}`;
      guests.set(id, input.IdentityPoolId);
      return { IdentityId: id };
    }
    const who = await verifyLogins(pool, logins);
    const id = identityIdFor(input.IdentityPoolId, who.provider, who.sub);
    users.add(id);
    return { IdentityId: id };
  }

  /**
   * Which pool an authenticated identity belongs to: the one whose (pool, provider, sub) hashes
   * to it. The unverified `sub` only locates the pool; the token is then verified against it.
   */
  async function poolOfIdentity(identityId, logins) {
    const [provider, token] = Object.entries(logins).sort(([a], [b]) => a.localeCompare(b))[0];
    let sub;
    try {
      sub = decodeJwt(token).sub;
    } catch {
      throw notAuthorized(MSG.notIdToken);
    }
    let next;
    do {
      const page = await control.send(new ListIdentityPoolsCommand({ MaxResults: 60, NextToken: next }));
      const match = (page.IdentityPools ?? []).find((p) => identityIdFor(p.IdentityPoolId, provider, sub) === identityId);
      if (match) return match.IdentityPoolId;
      next = page.NextToken;
    } while (next);
    throw notAuthorized(MSG.loginsDontMatch);
  }

  async function getCredentialsForIdentity(input) {
    const identityId = input.IdentityId;
    if (typeof identityId !== 'string') throw new CognitoError('InvalidParameterException', 'IdentityId is required.');
    const logins = input.Logins ?? {};
    let who;
    if (Object.keys(logins).length > 0) {
      const identityPoolId = await poolOfIdentity(identityId, logins);
      const verified = await verifyLogins(await describePool(identityPoolId), logins);
      if (identityIdFor(identityPoolId, verified.provider, verified.sub) !== identityId) throw notAuthorized(MSG.loginsDontMatch);
      who = { identityId, identityPoolId, provider: verified.provider, sub: verified.sub };
    } else {
      const identityPoolId = guests.get(identityId);
      // A user's identity needs its logins; an id never handed out does not exist.
      if (!identityPoolId && users.has(identityId)) throw notAuthorized(MSG.loginsDontMatch);
      if (!identityPoolId) throw new CognitoError('ResourceNotFoundException', `Identity '${identityId}' not found.`);
      // Guests are re-checked against the pool too: turning guests off takes effect at once.
      if (!(await describePool(identityPoolId)).AllowUnauthenticatedIdentities) throw notAuthorized(MSG.noGuests);
      who = { identityId, identityPoolId, provider: null, sub: null };
    }
    // The role the pool hands out must trust Cognito for this identity (template.yaml's UserRole /
    // GuestRole trust: aud, amr), as STS checks when Cognito assumes it.
    if (roles) {
      const arn = poolRoles.get(who.identityPoolId)?.[who.provider ? 'authenticated' : 'unauthenticated'];
      const role = arn ? await roleNow(arn) : null;
      const trust = role ? await roleTrustAllows(role, who) : { allowed: false, context: {} };
      if (!trust.allowed) {
        iamLog({ service: 'cognito-identity', decision: 'denied', principal: 'cognito-identity.amazonaws.com', action: 'sts:AssumeRoleWithWebIdentity', resource: role?.roleArn ?? null, context: trust.context, missing: { policy: role ? `${role.roleName} trust policy` : 'no role attached', why: 'the trust policy does not allow this identity (aud / amr)' } });
        throw new CognitoError('InvalidIdentityPoolConfigurationException', 'Invalid identity pool configuration. Check assigned IAM roles for this pool.');
      }
    }
    const rec = store.issue(who);
    return {
      IdentityId: identityId,
      Credentials: {
        AccessKeyId: rec.accessKeyId,
        SecretKey: rec.secretAccessKey,
        SessionToken: rec.sessionToken,
        Expiration: rec.expiresAt / 1000, // awsJson timestamps are epoch seconds
      },
    };
  }

  async function getIdentityPoolRoles(input) {
    if (typeof input.IdentityPoolId !== 'string') throw new CognitoError('InvalidParameterException', 'IdentityPoolId is required.');
    await describePool(input.IdentityPoolId);
    return { IdentityPoolId: input.IdentityPoolId, Roles: poolRoles.get(input.IdentityPoolId) ?? {} };
  }

  async function setIdentityPoolRoles(input) {
    if (typeof input.IdentityPoolId !== 'string') throw new CognitoError('InvalidParameterException', 'IdentityPoolId is required.');
    const given = input.Roles ?? {};
    if (typeof given !== 'object' || Object.keys(given).some((k) => k !== 'authenticated' && k !== 'unauthenticated') || Object.values(given).some((v) => typeof v !== 'string' || !v.startsWith('arn:'))) {
      throw new CognitoError('InvalidParameterException', 'Roles must map authenticated / unauthenticated to role ARNs.');
    }
    await describePool(input.IdentityPoolId);
    poolRoles.set(input.IdentityPoolId, { ...given });
    return {};
  }

  function send(res, status, headers, body) {
    res.writeHead(status, { ...CORS_HEADERS, 'x-amzn-requestid': randomUUID(), ...headers });
    res.end(body);
  }

  /** Anything but the data plane goes to moto as it came, and moto's answer comes back as it is. */
  function proxy(req, res, body) {
    const target = new URL(motoUrl);
    const headers = { ...req.headers, host: target.host };
    delete headers.connection;
    const up = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      const out = { ...answer.headers };
      for (const h of Object.keys(out)) if (h.startsWith('access-control-')) delete out[h];
      delete out.connection;
      delete out['transfer-encoding'];
      const chunks = [];
      answer.on('data', (c) => chunks.push(c));
      answer.on('end', () => {
        const buf = Buffer.concat(chunks);
        send(res, answer.statusCode, { ...out, 'content-length': String(buf.length) }, buf);
      });
    });
    up.on('error', (e) => send(res, 502, { 'content-type': 'application/json' }, JSON.stringify({ __type: 'InternalErrorException', message: `moto unreachable: ${e.message}` })));
    up.end(body);
  }

  /** null when allowed, else { type, message } as Cognito Identity answers. */
  async function authorizeControl(req, body, op) {
    let record;
    try {
      ({ record } = await verifySigV4({ method: req.method, url: req.url, headers: req.headers, body, region, service: 'cognito-identity', lookup: (id) => principals.lookup(id) }));
    } catch (e) {
      const type = e instanceof Refusal ? e.errorType : 'InternalErrorException';
      iamLog({ service: 'cognito-identity', decision: 'refused', reason: type, operation: op, message: e.message });
      return { type, message: e.message };
    }
    let input = {};
    try {
      input = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      return { type: 'SerializationException', message: 'Unable to parse the request body as JSON.' };
    }
    const { principal } = record;
    const request = {
      action: `cognito-identity:${op}`,
      // Actions without a resource type are authorized on "*" (the service reference's rule).
      resource: typeof input.IdentityPoolId === 'string' && !NO_RESOURCE_TYPE.has(op) ? `arn:aws:cognito-identity:${region}:${principal.accountId}:identitypool/${input.IdentityPoolId}` : '*',
    };
    // Tag conditions: the named pool's tags (aws:ResourceTag/...), a create's (aws:RequestTag/...).
    const context = {};
    if (typeof input.IdentityPoolId === 'string' && !NO_RESOURCE_TYPE.has(op)) {
      try {
        const pool = await describePool(input.IdentityPoolId);
        for (const [k, v] of Object.entries(pool.IdentityPoolTags ?? {})) context[`aws:ResourceTag/${k}`] = v;
      } catch {
        // An unknown pool: authorized on its ARN alone; moto answers ResourceNotFound after.
      }
    }
    if (op === 'CreateIdentityPool' || op === 'TagResource') {
      for (const [k, v] of Object.entries(input.IdentityPoolTags ?? input.Tags ?? {})) context[`aws:RequestTag/${k}`] = v;
    }
    request.context = context;
    const decision = await evaluate(principal, request);
    if (decision.allowed) return null;
    iamLog({ service: 'cognito-identity', decision: 'denied', principal: principal.arn, operation: op, ...request, result: decision.result, missing: decision.missing, message: decision.message });
    return { type: 'AccessDeniedException', message: decision.message };
  }

  async function handle(req, res) {
    if (req.method === 'OPTIONS') return answerPreflight(req, res);
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : null;
    const ours = ['GetId', 'GetCredentialsForIdentity', 'GetIdentityPoolRoles', 'SetIdentityPoolRoles'];
    // The control plane (DescribeIdentityPool, UpdateIdentityPool, the pools' roles, ...): with
    // principals (local/iam), the caller's signature and its own policies decide first.
    const isControl = req.method === 'POST' && op && !(op === 'GetId' || op === 'GetCredentialsForIdentity');
    if (principals && isControl) {
      const refusal = await authorizeControl(req, body, op);
      if (refusal) {
        return send(res, 400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': refusal.type }, JSON.stringify({ __type: refusal.type, message: refusal.message }));
      }
    }
    if (req.method !== 'POST' || !ours.includes(op)) return proxy(req, res, body);
    try {
      let input;
      try {
        input = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        throw new CognitoError('SerializationException', 'Unable to parse the request body as JSON.');
      }
      const out = op === 'GetId' ? await getId(input)
        : op === 'GetCredentialsForIdentity' ? await getCredentialsForIdentity(input)
          : op === 'GetIdentityPoolRoles' ? await getIdentityPoolRoles(input)
            : await setIdentityPoolRoles(input);
      send(res, 200, { 'content-type': 'application/x-amz-json-1.1' }, JSON.stringify(out));
    } catch (e) {
      const err = e instanceof CognitoError ? e : new CognitoError('InternalErrorException', `local Identity Pool: ${e.message}`, 500);
      if (!(e instanceof CognitoError)) console.error(e);
      send(res, err.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': err.type }, JSON.stringify({ __type: err.type, message: err.message }));
    }
  }

  return { handle, guests };
}
