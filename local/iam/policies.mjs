// The IAM policies template.yaml gives each principal of the stack, resolved as CloudFormation
// and SAM would resolve them for one set of parameters, so the local stack can evaluate every AWS
// call against exactly what a deployed stack grants (local/iam/proxy.mjs, local/server.mjs).
//
// Resolved here: !Ref (parameters, pseudo parameters, resources' physical ids), !GetAtt (Arn,
// StreamArn, ApiId, GraphQLUrl, …), !Sub (both forms; `${aws:…}` policy variables are kept for IAM),
// !If/!Equals/!Not/!And/!Or on the template's Conditions, !Join, !Select, AWS::NoValue; SAM
// function `Policies` (inline documents, managed policy !Refs and ARNs; SAM policy templates are
// refused with a clear error, the template uses none), `RolePath` from Globals.
// Physical names are the local stand-ins (identities.mjs: account, region; `stackName`).
import { loadTemplate } from '../wiring.mjs';
import { ACCOUNT_ID, IDENTITY_POOL_ID, REGION } from '../identities.mjs';

export const STACK_NAME = 'notes-local';
const PARTITION = 'aws';

/** The parameters' values: the template's defaults overridden by `overrides` (strings). */
export function parameterValues(template, overrides = {}) {
  const values = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    if (p.Default !== undefined) values[name] = String(p.Default);
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in (template.Parameters ?? {}))) throw new Error(`template.yaml has no parameter ${k}`);
    values[k] = String(v);
  }
  return values;
}

const NO_VALUE = Symbol('AWS::NoValue');

/**
 * A resolver of the template's intrinsics for one stack: { resolve(value), condition(name),
 * physicalId(logicalId), arnOf(logicalId), template, parameters, names }.
 */
export function stackContext(template, { parameters = {}, stackName = STACK_NAME, accountId = ACCOUNT_ID, region = REGION, tableName, identityPoolId = IDENTITY_POOL_ID } = {}) {
  const params = parameterValues(template, parameters);
  const resources = template.Resources;
  const pseudo = {
    'AWS::AccountId': accountId,
    'AWS::Region': region,
    'AWS::Partition': PARTITION,
    'AWS::StackName': stackName,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const apiId = 'localapi';

  const physicalId = (id) => {
    const r = resources[id];
    if (!r) throw new Error(`template.yaml: no resource ${id}`);
    switch (r.Type) {
      case 'AWS::DynamoDB::Table': return tableName ?? `${stackName}-${id}`;
      case 'AWS::IAM::Role': return `${stackName}-${id}`;
      case 'AWS::IAM::ManagedPolicy': return `arn:${PARTITION}:iam::${accountId}:policy/${stackName}-${id}`;
      case 'AWS::SecretsManager::Secret': return `arn:${PARTITION}:secretsmanager:${region}:${accountId}:secret:${stackName}-${id}-AbCdEf`;
      case 'AWS::Serverless::Function': return r.Metadata?.BuildProperties?.Binary ?? `${stackName}-${id}`;
      case 'AWS::SQS::Queue': return `https://sqs.${region}.amazonaws.com/${accountId}/${stackName}-${id}`;
      case 'AWS::AppSync::GraphQLApi': return `arn:${PARTITION}:appsync:${region}:${accountId}:apis/${apiId}`;
      default: return `${stackName}-${id}`;
    }
  };

  const rolePathOf = (id) => {
    const r = resources[id];
    if (r?.Type === 'AWS::Serverless::Function') {
      const path = r.Properties?.RolePath ?? template.Globals?.Function?.RolePath;
      return path === undefined ? '/' : resolve(path);
    }
    return r?.Properties?.Path ? resolve(r.Properties.Path) : '/';
  };

  const roleArn = (roleId) => `arn:${PARTITION}:iam::${accountId}:role${rolePathOf(roleId)}${stackName}-${roleId}`;

  const getAtt = (id, attr) => {
    const r = resources[id];
    if (!r) throw new Error(`template.yaml: !GetAtt of unknown resource ${id}`);
    const name = physicalId(id);
    switch (`${r.Type}.${attr}`) {
      case 'AWS::DynamoDB::Table.Arn': return `arn:${PARTITION}:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::DynamoDB::Table.StreamArn': return `arn:${PARTITION}:dynamodb:${region}:${accountId}:table/${name}/stream/*`;
      case 'AWS::IAM::Role.Arn': return roleArn(id);
      case 'AWS::Serverless::Function.Arn': return `arn:${PARTITION}:lambda:${region}:${accountId}:function:${name}`;
      case 'AWS::SQS::Queue.Arn': return `arn:${PARTITION}:sqs:${region}:${accountId}:${stackName}-${id}`;
      case 'AWS::AppSync::GraphQLApi.ApiId': return apiId;
      case 'AWS::AppSync::GraphQLApi.Arn': return name;
      case 'AWS::AppSync::GraphQLApi.GraphQLUrl': return `https://${apiId}.appsync-api.${region}.amazonaws.com/graphql`;
      case 'AWS::AppSync::GraphQLApi.RealtimeUrl': return `wss://${apiId}.appsync-realtime-api.${region}.amazonaws.com/graphql`;
      case 'AWS::Cognito::UserPool.Arn': return `arn:${PARTITION}:cognito-idp:${region}:${accountId}:userpool/${region}_${id}`;
      case 'AWS::Cognito::UserPool.ProviderName': return `cognito-idp.${region}.amazonaws.com/${region}_${id}`;
      case 'AWS::AppSync::DataSource.Name': return resolve(r.Properties.Name);
      default: return `${name}.${attr}`;
    }
  };

  const ref = (name) => {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in pseudo) return pseudo[name];
    if (name in params) return params[name];
    if (name in resources) {
      const r = resources[name];
      // The local stack's Identity Pool id (moto's, from cognito-setup.mjs; scripts/local.sh passes it).
      if (r.Type === 'AWS::Cognito::IdentityPool') return identityPoolId;
      return physicalId(name);
    }
    throw new Error(`template.yaml: !Ref of unknown ${name}`);
  };

  const sub = (text, vars = {}) => text.replace(/\$\{([^}]+)\}/g, (whole, expr) => {
    if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
    if (expr in vars) return String(resolve(vars[expr]));
    // IAM policy variables (${aws:PrincipalTag/tenant}) are IAM's, not CloudFormation's.
    if (/^[a-z][a-z0-9-]*:/.test(expr)) return whole;
    if (expr in pseudo || expr in params || (expr in resources)) return String(ref(expr));
    const dot = expr.indexOf('.');
    if (dot > 0) return String(getAtt(expr.slice(0, dot), expr.slice(dot + 1)));
    throw new Error(`template.yaml: !Sub cannot resolve \${${expr}}`);
  });

  const conditions = new Map();
  const condition = (name) => {
    if (!conditions.has(name)) {
      const body = template.Conditions?.[name];
      if (body === undefined) throw new Error(`template.yaml: no condition ${name}`);
      conditions.set(name, Boolean(resolve(body)));
    }
    return conditions.get(name);
  };

  function resolve(v) {
    if (Array.isArray(v)) return v.map(resolve).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys;
      const body = v[k];
      switch (k) {
        case 'Ref': return ref(body);
        case 'GetAtt': {
          const [id, ...attr] = Array.isArray(body) ? body : String(body).split('.');
          return getAtt(id, attr.join('.'));
        }
        case 'Sub': return Array.isArray(body) ? sub(body[0], body[1] ?? {}) : sub(body);
        case 'If': return resolve(condition(body[0]) ? body[1] : body[2]);
        case 'Equals': return String(resolve(body[0])) === String(resolve(body[1]));
        case 'Not': return !resolve(body[0]);
        case 'And': return body.every((c) => resolve(c));
        case 'Or': return body.some((c) => resolve(c));
        case 'Condition': return condition(body);
        case 'Join': return resolve(body[1]).join(body[0]);
        case 'Select': return resolve(body[1])[Number(resolve(body[0]))];
        default: break;
      }
    }
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      const r = resolve(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }

  return { template, parameters: params, resolve, condition, physicalId, getAtt, roleArn, rolePathOf, accountId, region, stackName };
}

function managedPolicyDocument(ctx, arn) {
  for (const [id, r] of Object.entries(ctx.template.Resources)) {
    if (r.Type === 'AWS::IAM::ManagedPolicy' && ctx.physicalId(id) === arn) {
      return { name: id, policy: ctx.resolve(r.Properties.PolicyDocument) };
    }
  }
  // AWS managed policies SAM or the template attach (logs, X-Ray): none of them grants anything
  // on the services the local stack enforces (DynamoDB, Secrets Manager, AppSync, STS, Cognito).
  if (/^arn:aws:iam::aws:policy\//.test(arn)) return null;
  throw new Error(`managed policy ${arn} is not in template.yaml`);
}

/** The identity policies of a SAM function's role: [{ name, policy }]. */
function functionPolicies(ctx, id, fn) {
  const out = [];
  const items = fn.Properties?.Policies ?? [];
  [].concat(items).forEach((raw, i) => {
    const item = ctx.resolve(raw);
    if (item === NO_VALUE || item === undefined) return;
    if (typeof item === 'string') {
      const arn = item.startsWith('arn:') ? item : `arn:aws:iam::aws:policy/${item}`;
      const doc = managedPolicyDocument(ctx, arn);
      if (doc) out.push(doc);
    } else if (item.Statement) {
      out.push({ name: `${id}RolePolicy${i}`, policy: item });
    } else {
      throw new Error(`${id}: SAM policy template ${Object.keys(item).join(',')} is not supported by local/iam/policies.mjs`);
    }
  });
  return out;
}

/** The identity policies of an AWS::IAM::Role: inline Policies + ManagedPolicyArns. */
function rolePolicies(ctx, id, role) {
  const props = ctx.resolve(role.Properties ?? {});
  const out = (props.Policies ?? []).map((p) => ({ name: p.PolicyName, policy: p.PolicyDocument }));
  for (const arn of props.ManagedPolicyArns ?? []) {
    const doc = managedPolicyDocument(ctx, arn);
    if (doc) out.push(doc);
  }
  return out;
}

/**
 * Everything the local IAM needs from template.yaml for one parameter set:
 *   functions: Map(binary -> { logicalId, roleId, roleName, roleArn, policies, environment })
 *   roles:     Map(logicalId -> { roleName, roleArn, policies, trust })   (AWS::IAM::Role)
 *   managedPolicies: Map(logicalId -> { arn, policy })
 *   tableArn, ctx
 */
export function loadStackPolicies(root, options = {}) {
  const template = options.template ?? loadTemplate(root);
  const ctx = stackContext(template, options);
  const functions = new Map();
  const roles = new Map();
  const managedPolicies = new Map();
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::Serverless::Function') {
      const roleId = `${id}Role`;
      const roleName = `${ctx.stackName}-${roleId}`;
      const roleArn = `arn:${PARTITION}:iam::${ctx.accountId}:role${ctx.rolePathOf(id)}${roleName}`;
      const env = ctx.resolve({ ...(template.Globals?.Function?.Environment?.Variables ?? {}), ...(r.Properties?.Environment?.Variables ?? {}) });
      functions.set(ctx.physicalId(id), { logicalId: id, roleId, roleName, roleArn, policies: functionPolicies(ctx, id, r), environment: env });
    } else if (r.Type === 'AWS::IAM::Role') {
      roles.set(id, {
        logicalId: id,
        roleName: ctx.physicalId(id),
        roleArn: ctx.getAtt(id, 'Arn'),
        policies: rolePolicies(ctx, id, r),
        trust: ctx.resolve(r.Properties.AssumeRolePolicyDocument),
      });
    } else if (r.Type === 'AWS::IAM::ManagedPolicy') {
      managedPolicies.set(id, { arn: ctx.physicalId(id), name: id, policy: ctx.resolve(r.Properties.PolicyDocument) });
    }
  }
  // AWS::IAM::Policy resources attach a document to roles (Roles: [!Ref <Role>]); a SAM
  // function's generated role is `<Function>Role`.
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const raw of [].concat(r.Properties.Roles ?? [])) {
      const logical = raw?.Ref;
      const policy = { name: ctx.resolve(r.Properties.PolicyName) ?? id, policy: ctx.resolve(r.Properties.PolicyDocument) };
      const fn = [...functions.values()].find((f) => f.roleId === logical);
      if (fn) fn.policies.push(policy);
      else if (roles.has(logical)) roles.get(logical).policies.push(policy);
      else throw new Error(`${id}: attached to ${JSON.stringify(raw)}, which is no role of the template`);
    }
  }
  const table = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::DynamoDB::Table')?.[0];
  return { ctx, functions, roles, managedPolicies, tableArn: table ? ctx.getAtt(table, 'Arn') : null };
}
