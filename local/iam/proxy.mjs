// DynamoDB with IAM, locally: a proxy in front of DynamoDB Local (which ignores IAM) that
// verifies each request's SigV4 signature (local/sigv4.mjs, AWS's own signer), maps its access
// key to a principal (local/iam/principals.mjs), derives the authorization requests IAM would
// evaluate (local/iam/dynamodb-authz.mjs) and evaluates each against the principal's policies
// from template.yaml (local/iam/evaluate.mjs). A refused call answers as DynamoDB does (HTTP 400,
// AccessDeniedException) and is logged as one JSON line; an allowed one is re-signed with the
// backend's key and passed on unchanged (DynamoDB Local keeps one database per access key, so
// every principal must reach the same one).
//
//   node local/iam/proxy.mjs [--service dynamodb|cognito-idp] --port 0 --backend http://127.0.0.1:8000
//        --principals DIR/principals.json [--log FILE] [--port-file FILE]
// (--service cognito-idp: the same in front of moto's User Pools, for tenantctl's calls.)
import { createServer } from 'node:http';
import { appendFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { Refusal, verifySigV4 } from '../sigv4.mjs';
import { REGION } from '../identities.mjs';
import { authorizationRequests } from './dynamodb-authz.mjs';
import { evaluate } from './evaluate.mjs';
import { PrincipalStore } from './principals.mjs';
import { createSts } from './sts.mjs';

const BACKEND_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** DynamoDB's JSON error body and headers. */
function awsError(res, status, type, message) {
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, Message: message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-errortype': type,
    'x-amzn-requestid': cryptoId(),
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

let counter = 0;
const cryptoId = () => `LOCALIAM${Date.now().toString(36).toUpperCase()}${(counter++).toString(36).toUpperCase()}`.padEnd(52, '0');

/** DynamoDB's answers to a bad signature (all HTTP 400 from DynamoDB, unlike AppSync's 403). */
function signatureError(e) {
  if (!(e instanceof Refusal)) return ['InternalFailure', String(e?.message ?? e)];
  if (e.errorType === 'UnrecognizedClientException') return ['UnrecognizedClientException', e.message];
  if (e.errorType === 'ExpiredTokenException') return ['ExpiredTokenException', e.message];
  if (e.errorType === 'MissingAuthenticationTokenException') return ['MissingAuthenticationTokenException', 'Request is missing Authentication Token'];
  return [e.errorType, e.message];
}

/**
 * The proxy as a request handler.
 *   backend: DynamoDB Local's URL; store: PrincipalStore; log(line object)
 */
export function createDynamoDbProxy({ backend, store, region = REGION, log = () => {} }) {
  const signer = new SignatureV4({ credentials: BACKEND_CREDENTIALS, region, service: 'dynamodb', sha256: Sha256, applyChecksum: false });
  const backendUrl = new URL(backend);

  async function forward(target, body, contentType) {
    const request = {
      method: 'POST',
      protocol: backendUrl.protocol,
      hostname: backendUrl.hostname,
      port: Number(backendUrl.port),
      path: '/',
      headers: { host: backendUrl.host, 'content-type': contentType ?? 'application/x-amz-json-1.0', 'x-amz-target': target },
      body,
    };
    const signed = await signer.sign(request);
    const r = await fetch(backendUrl, { method: 'POST', headers: signed.headers, body });
    return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
  }

  // Partition key attribute of a table or index, from DescribeTable (cached; dropped when the
  // table's schema changes through this proxy).
  const schemas = new Map();
  async function keySchema(table, index) {
    if (!schemas.has(table)) {
      schemas.set(table, (async () => {
        const r = await forward('DynamoDB_20120810.DescribeTable', JSON.stringify({ TableName: table }));
        if (r.status !== 200) return null;
        return JSON.parse(r.body.toString('utf8')).Table;
      })());
    }
    const t = await schemas.get(table);
    if (!t) {
      schemas.delete(table);
      return undefined;
    }
    const hashOf = (ks) => ks?.find((k) => k.KeyType === 'HASH')?.AttributeName;
    if (!index) return hashOf(t.KeySchema);
    const idx = [...(t.GlobalSecondaryIndexes ?? []), ...(t.LocalSecondaryIndexes ?? [])].find((i) => i.IndexName === index);
    return hashOf(idx?.KeySchema);
  }

  return async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    const target = req.headers['x-amz-target'];
    let record;
    try {
      ({ record } = await verifySigV4({
        method: req.method, url: req.url, headers: req.headers, body: raw, region, service: 'dynamodb', lookup: (id) => store.lookup(id),
      }));
    } catch (e) {
      const [type, message] = signatureError(e);
      log({ service: 'dynamodb', decision: 'refused', reason: type, target, message });
      return awsError(res, 400, type, message);
    }
    const principal = record.principal;
    let body;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    } catch {
      return awsError(res, 400, 'SerializationException', 'Start of structure or map found where not expected');
    }
    let requests;
    try {
      requests = await authorizationRequests(target, body, { region, accountId: principal.accountId }, keySchema);
    } catch (e) {
      return awsError(res, 400, 'UnknownOperationException', String(e.message));
    }
    for (const request of requests) {
      const decision = await evaluate(principal, request);
      if (!decision.allowed) {
        log({
          service: 'dynamodb',
          decision: 'denied',
          principal: principal.arn,
          operation: String(target).split('.')[1],
          action: request.action,
          resource: request.resource,
          context: request.context,
          ...(request.element !== undefined ? { element: request.element } : {}),
          result: decision.result,
          missing: decision.missing,
          message: decision.message,
        });
        return awsError(res, 400, 'AccessDeniedException', decision.message);
      }
    }
    const op = String(target).split('.')[1];
    if (['CreateTable', 'UpdateTable', 'DeleteTable'].includes(op)) schemas.delete(body.TableName);
    try {
      const r = await forward(target, raw, req.headers['content-type']);
      const headers = {};
      for (const [k, v] of r.headers) if (!['content-length', 'connection', 'transfer-encoding', 'keep-alive'].includes(k)) headers[k] = v;
      headers['content-length'] = r.body.length;
      res.writeHead(r.status, headers);
      res.end(r.body);
    } catch (e) {
      awsError(res, 500, 'InternalServerError', `local/iam/proxy: DynamoDB Local unreachable: ${e.message}`);
    }
  };
}

/**
 * cognito-idp (the tenants' User Pools, in moto, which checks no IAM): signed calls are evaluated
 * as `cognito-idp:<Operation>` on the pool's ARN (`*` for ListUserPools / CreateUserPool and other
 * calls that name no pool) and refused as Cognito refuses (HTTP 400, AccessDeniedException);
 * unsigned calls (InitiateAuth, RespondToAuthChallenge, SignUp, ...: public APIs, no IAM) pass.
 */
export function cognitoIdpRequest(target, body, { region, accountId }) {
  const op = String(target ?? '').split('.')[1];
  if (!op) throw new Error(`unknown X-Amz-Target ${target}`);
  const resource = typeof body?.UserPoolId === 'string' ? `arn:aws:cognito-idp:${region}:${accountId}:userpool/${body.UserPoolId}` : '*';
  return { action: `cognito-idp:${op}`, resource, context: {} };
}

export function createCognitoIdpProxy({ backend, store, region = REGION, log = () => {} }) {
  const signer = new SignatureV4({ credentials: BACKEND_CREDENTIALS, region, service: 'cognito-idp', sha256: Sha256, applyChecksum: false });
  const backendUrl = new URL(backend);
  const cognitoError = (res, status, type, message) => {
    const body = JSON.stringify({ __type: type, message });
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type, 'x-amzn-requestid': cryptoId(), 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  return async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    const target = req.headers['x-amz-target'];
    let headers = { 'content-type': req.headers['content-type'] ?? 'application/x-amz-json-1.1', 'x-amz-target': target, host: backendUrl.host };
    if (req.headers.authorization) {
      let record;
      try {
        ({ record } = await verifySigV4({ method: req.method, url: req.url, headers: req.headers, body: raw, region, service: 'cognito-idp', lookup: (id) => store.lookup(id) }));
      } catch (e) {
        const [type, message] = signatureError(e);
        log({ service: 'cognito-idp', decision: 'refused', reason: type, target, message });
        return cognitoError(res, 400, type, message);
      }
      const principal = record.principal;
      let body = {};
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        return cognitoError(res, 400, 'SerializationException', 'Unable to parse the request body as JSON.');
      }
      const request = cognitoIdpRequest(target, body, { region, accountId: principal.accountId });
      const decision = await evaluate(principal, request);
      if (!decision.allowed) {
        log({ service: 'cognito-idp', decision: 'denied', principal: principal.arn, operation: request.action.split(':')[1], ...request, result: decision.result, missing: decision.missing, message: decision.message });
        return cognitoError(res, 400, 'AccessDeniedException', decision.message);
      }
      const signed = await signer.sign({ method: 'POST', protocol: backendUrl.protocol, hostname: backendUrl.hostname, port: Number(backendUrl.port), path: req.url, headers, body: raw });
      headers = signed.headers;
    }
    try {
      const r = await fetch(new URL(req.url, backendUrl), { method: req.method, headers, body: req.method === 'GET' ? undefined : raw });
      const buf = Buffer.from(await r.arrayBuffer());
      const out = {};
      for (const [k, v] of r.headers) if (!['content-length', 'connection', 'transfer-encoding', 'keep-alive', 'content-encoding'].includes(k)) out[k] = v;
      out['content-length'] = buf.length;
      res.writeHead(r.status, out);
      res.end(buf);
    } catch (e) {
      cognitoError(res, 500, 'InternalErrorException', `local/iam/proxy: moto unreachable: ${e.message}`);
    }
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
  if (!args.backend || !args.principals) throw new Error('usage: proxy.mjs --backend URL --principals FILE [--port N] [--log FILE] [--port-file FILE]');
  const store = PrincipalStore.fromFile(args.principals);
  const log = (line) => {
    const text = JSON.stringify({ time: new Date().toISOString(), ...line }) + '\n';
    if (args.log) appendFileSync(args.log, text);
    process.stderr.write(text);
  };
  const service = args.service ?? 'dynamodb';
  const make = { dynamodb: createDynamoDbProxy, 'cognito-idp': createCognitoIdpProxy }[service];
  if (!make) throw new Error(`--service dynamodb | cognito-idp, not ${service}`);
  const server = createServer(make({ backend: args.backend, store, log }));
  server.keepAliveTimeout = 60_000;
  server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
    const { port } = server.address();
    if (args['port-file']) writeFileSync(args['port-file'], `${port}\n`);
    process.stderr.write(`local IAM for ${service} on http://127.0.0.1:${port} -> ${args.backend}\n`);
  });
  // --sts-port-file: the local STS beside it, issuing sessions into the same store, so the
  // DynamoDB calls made with them are evaluated as that session (scoped mode).
  if (args['sts-port-file']) {
    const sts = createServer(createSts({ store, roles: store.roles, log }));
    sts.listen(0, '127.0.0.1', () => {
      writeFileSync(args['sts-port-file'], `${sts.address().port}\n`);
      process.stderr.write(`local STS (AssumeRole) on http://127.0.0.1:${sts.address().port}\n`);
    });
  }
}
