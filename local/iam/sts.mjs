// STS AssumeRole, locally (AWS_ENDPOINT_URL_STS): what the functions call in scoped mode
// (TenantScopedCredentials=true, shared/src/tenant_credentials.rs) to get TenantDataRole's
// credentials with the session tag tenant=<id>. As STS does, the call is allowed only when
//   - the caller's identity policies allow sts:AssumeRole on the role (and sts:TagSession when it
//     passes tags), e.g. AssumeTenantDataRolePolicy, and
//   - the role's trust policy allows the caller for both, with the request's aws:PrincipalArn,
//     aws:RequestTag/<k> and aws:TagKeys;
// and the session it issues is bound to the role's policies, the tags (aws:PrincipalTag/<k> in
// later calls) and the session policy, if one was passed. Query protocol (form body, XML answer).
import { randomBytes } from 'node:crypto';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Refusal, verifySigV4 } from '../sigv4.mjs';
import { REGION } from '../identities.mjs';
import { evaluate, principalContext } from './evaluate.mjs';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const xml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const requestId = () => randomBytes(16).toString('hex').replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5');

/** The form parameters of an AssumeRole call: { RoleArn, RoleSessionName, DurationSeconds, Policy, tags }. */
export function parseAssumeRole(form) {
  const p = new URLSearchParams(form);
  const tags = {};
  for (let i = 1; p.has(`Tags.member.${i}.Key`); i++) tags[p.get(`Tags.member.${i}.Key`)] = p.get(`Tags.member.${i}.Value`) ?? '';
  return {
    action: p.get('Action'),
    roleArn: p.get('RoleArn'),
    sessionName: p.get('RoleSessionName'),
    durationSeconds: Number(p.get('DurationSeconds') ?? 3600),
    policy: p.get('Policy') ? JSON.parse(p.get('Policy')) : undefined,
    tags,
  };
}

/** Does the role's trust policy (a resource policy) allow `principal` to call `action`? */
async function trustAllows(role, principal, action, context) {
  const sim = await runSimulation({
    request: { principal: principal.arn, action, resource: { resource: role.roleArn, accountId: principal.accountId }, contextVariables: { ...principalContext(principal), ...context } },
    identityPolicies: [],
    resourcePolicy: role.trust,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }, {});
  const analysis = sim.resultType === 'single' ? sim.result.analysis : null;
  // Trust is a resource policy: what matters is whether it allows (the identity side is checked
  // separately, with the caller's own policies). A trust naming the account (":root") allows for
  // the account (AllowedForAccount): then the caller's identity policy must allow too, as checked.
  return ['Allowed', 'AllowedForAccount'].includes(analysis?.resourceAnalysis?.result);
}

/**
 * The STS endpoint's handler. `store` (PrincipalStore) verifies callers and receives the
 * sessions it issues; `roles`: [{ roleName, roleArn, policies, trust }] from template.yaml.
 */
export function createSts({ store, roles, region = REGION, log = () => {}, now = () => Date.now() }) {
  const send = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId(), 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const error = (res, status, code, message) => send(res, status, `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`);

  return async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    let record;
    try {
      ({ record } = await verifySigV4({ method: req.method, url: req.url, headers: req.headers, body: raw, region, service: 'sts', lookup: (id) => store.lookup(id), now: now() }));
    } catch (e) {
      const code = e instanceof Refusal ? (e.errorType === 'UnrecognizedClientException' ? 'InvalidClientTokenId' : e.errorType) : 'InternalFailure';
      log({ service: 'sts', decision: 'refused', reason: code, message: e.message });
      return error(res, 403, code, code === 'InvalidClientTokenId' ? 'The security token included in the request is invalid.' : e.message);
    }
    const principal = record.principal;
    let call;
    try {
      call = parseAssumeRole(raw.toString('utf8'));
    } catch (e) {
      return error(res, 400, 'MalformedPolicyDocument', `The policy is not valid JSON: ${e.message}`);
    }
    if (call.action !== 'AssumeRole') return error(res, 400, 'InvalidAction', `Could not find operation ${call.action} for version 2011-06-15`);
    const tagKeys = Object.keys(call.tags);
    const context = { 'aws:TagKeys': tagKeys };
    for (const [k, v] of Object.entries(call.tags)) context[`aws:RequestTag/${k}`] = v;
    const role = roles.find((r) => r.roleArn === call.roleArn);
    const actions = ['sts:AssumeRole', ...(tagKeys.length ? ['sts:TagSession'] : [])];
    for (const action of actions) {
      const request = { action, resource: call.roleArn, context };
      const decision = await evaluate(principal, request);
      const trusted = role ? await trustAllows(role, principal, action, context) : false;
      if (!decision.allowed || !trusted) {
        const message = `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${call.roleArn}`;
        log({
          service: 'sts', decision: 'denied', principal: principal.arn, ...request, result: decision.result,
          missing: !decision.allowed ? decision.missing : { policy: 'trust policy', why: role ? `${role.roleName}'s trust policy does not allow this caller with these tags` : 'no such role in template.yaml' },
          message,
        });
        return error(res, 403, 'AccessDenied', message);
      }
    }
    const expiresAt = now() + call.durationSeconds * 1000;
    const session = store.add({
      name: `session:${role.roleName}/${call.sessionName}`,
      arn: `arn:aws:sts::${principal.accountId}:assumed-role/${role.roleName}/${call.sessionName}`,
      principalArn: role.roleArn,
      roleName: role.roleName,
      roleId: `AROA${role.roleName.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 17)}`,
      session: call.sessionName,
      accountId: principal.accountId,
      policies: role.policies,
      sessionPolicy: call.policy,
      tags: call.tags,
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      expiresAt,
    });
    send(res, 200, `<AssumeRoleResponse xmlns="${NS}"><AssumeRoleResult><Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${xml(session.secretAccessKey)}</SecretAccessKey><SessionToken>${xml(session.sessionToken)}</SessionToken><Expiration>${new Date(expiresAt).toISOString()}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>${session.roleId}:${xml(call.sessionName)}</AssumedRoleId><Arn>${xml(session.arn)}</Arn></AssumedRoleUser><PackedPolicySize>${tagKeys.length ? 6 : 0}</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></AssumeRoleResponse>`);
  };
}
