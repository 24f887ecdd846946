// The local stack's principals and their credentials, one per caller as on AWS:
//   - each function of template.yaml: a session of its own role (SAM's <Function>Role under the
//     template's RolePath), session name = the function's name, as Lambda hands out;
//   - `admin`: the local stack's deploy-time principal (scripts/local.sh's AWS_ACCESS_KEY_ID=local:
//     `tenantctl create-table`, the Lambda service reading the table's stream, test set-up), with
//     AdministratorAccess — the stand-in for whoever deploys the stack;
//   - `operator`: tenantctl's day-to-day commands, holding only the template's operator policies.
// `node local/iam/principals.mjs --out DIR [--param K=V ...]` writes DIR/principals.json (keys,
// secrets, ARNs, policies: read by local/iam/proxy.mjs and local/server.mjs) and
// DIR/env/<function>.env (read by local/iam/run-as-function.sh when `cargo lambda watch` starts
// that function), DIR/env/operator.env for tenantctl.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStackPolicies } from './policies.mjs';
import { ACCOUNT_ID, LOCAL_IAM_KEY } from '../identities.mjs';

const ADMIN_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

const key = (prefix) => prefix + randomBytes(8).toString('hex').toUpperCase();
const secret = () => randomBytes(30).toString('base64');

/** The managed policies an operator role gets: every template policy named like an operator's. */
export function operatorPolicies(stack) {
  return [...stack.managedPolicies.values()].filter((p) => /Operator/.test(p.name)).map((p) => ({ name: p.name, policy: p.policy }));
}

/** { byKey: { accessKeyId: principal }, functions: { name: accessKeyId }, ... } */
export function buildPrincipals(stack, { accountId = ACCOUNT_ID } = {}) {
  const principals = [];
  for (const [name, fn] of stack.functions) {
    principals.push({
      name: `function:${name}`,
      function: name,
      logicalId: fn.logicalId,
      arn: `arn:aws:sts::${accountId}:assumed-role/${fn.roleName}/${name}`,
      principalArn: fn.roleArn,
      roleName: fn.roleName,
      roleId: `AROA${fn.logicalId.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 17)}`,
      session: name,
      accountId,
      policies: fn.policies,
      environment: fn.environment,
      accessKeyId: key('ASIA'),
      secretAccessKey: secret(),
      sessionToken: randomBytes(32).toString('base64'),
    });
  }
  const operatorRole = `${stack.ctx.stackName}-TenantOperatorRole`;
  principals.push({
    name: 'operator',
    arn: `arn:aws:sts::${accountId}:assumed-role/${operatorRole}/tenantctl`,
    principalArn: `arn:aws:iam::${accountId}:role/${operatorRole}`,
    roleName: operatorRole,
    roleId: 'AROALOCALOPERATOR001',
    session: 'tenantctl',
    accountId,
    policies: operatorPolicies(stack),
    accessKeyId: key('ASIA'),
    secretAccessKey: secret(),
    sessionToken: randomBytes(32).toString('base64'),
  });
  principals.push({
    name: 'admin',
    arn: `arn:aws:iam::${accountId}:user/local-admin`,
    principalArn: `arn:aws:iam::${accountId}:user/local-admin`,
    roleName: LOCAL_IAM_KEY.roleName,
    roleId: LOCAL_IAM_KEY.roleId,
    session: LOCAL_IAM_KEY.session,
    accountId,
    policies: [{ name: 'AdministratorAccess', policy: ADMIN_POLICY }],
    accessKeyId: LOCAL_IAM_KEY.accessKeyId,
    secretAccessKey: LOCAL_IAM_KEY.secretAccessKey,
  });
  return principals;
}

/** A lookup for verifySigV4 over principals.json's records (plus keys issued later, e.g. by STS). */
export class PrincipalStore {
  constructor(principals = []) {
    this.byKey = new Map();
    for (const p of principals) this.add(p);
  }

  static fromFile(file) {
    const data = JSON.parse(readFileSync(file, 'utf8'));
    const store = new PrincipalStore(data.principals);
    // The template's IAM roles (trust and policies), for the local STS.
    store.roles = data.roles ?? [];
    return store;
  }

  add(p) {
    this.byKey.set(p.accessKeyId, p);
    return p;
  }

  /** verifySigV4's lookup: { secretAccessKey, sessionToken, expiresAt, principal }. */
  lookup(accessKeyId) {
    const p = this.byKey.get(accessKeyId);
    if (!p) return null;
    return { secretAccessKey: p.secretAccessKey, sessionToken: p.sessionToken, expiresAt: p.expiresAt, principal: p };
  }

  named(name) {
    return [...this.byKey.values()].find((p) => p.name === name) ?? null;
  }
}

function envFile(vars) {
  return Object.entries(vars).map(([k, v]) => `${k}='${String(v).replace(/'/g, "'\\''")}'`).join('\n') + '\n';
}

/** Writes DIR/principals.json and DIR/env/*.env. */
export function writePrincipals(dir, principals, { tenantScoped = false, roles = [] } = {}) {
  mkdirSync(join(dir, 'env'), { recursive: true });
  writeFileSync(join(dir, 'principals.json'), JSON.stringify({ principals, roles }, null, 2) + '\n', { mode: 0o600 });
  for (const p of principals) {
    if (p.name === 'admin') continue;
    const vars = { AWS_ACCESS_KEY_ID: p.accessKeyId, AWS_SECRET_ACCESS_KEY: p.secretAccessKey };
    if (p.sessionToken) vars.AWS_SESSION_TOKEN = p.sessionToken;
    // What the template gives the function that changes its AWS calls: the tenant data role in
    // scoped mode. (PAGE_TOKEN_SECRET_ARN is left out: locally the key is derived, see
    // docs/local-stack.md "Local IAM".)
    if (p.function && tenantScoped && p.environment?.TENANT_ROLE_ARN !== undefined) vars.TENANT_ROLE_ARN = p.environment.TENANT_ROLE_ARN;
    writeFileSync(join(dir, 'env', `${p.function ?? p.name}.env`), envFile(vars), { mode: 0o600 });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let out = null;
  let tableName;
  let identityPoolId;
  const parameters = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') out = args[++i];
    else if (args[i] === '--table') tableName = args[++i];
    else if (args[i] === '--identity-pool-id') identityPoolId = args[++i];
    else if (args[i] === '--param') {
      const [k, ...v] = args[++i].split('=');
      parameters[k] = v.join('=');
    } else throw new Error(`unknown argument ${args[i]}`);
  }
  if (!out) throw new Error('--out DIR is required');
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const stack = loadStackPolicies(root, { parameters, tableName, identityPoolId });
  const principals = buildPrincipals(stack);
  writePrincipals(out, principals, { tenantScoped: stack.ctx.condition('UseTenantScopedCredentials'), roles: [...stack.roles.values()] });
  process.stdout.write(`${principals.length} principals in ${join(out, 'principals.json')}\n`);
}
