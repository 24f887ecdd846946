// Reads which function resolves which field from template.yaml (and checks it against
// schema.graphql), so the local endpoint has no field list of its own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildSchema } from 'graphql';

// CloudFormation's short-form intrinsics, kept as { tag: value } objects.
const INTRINSICS = ['Ref', 'GetAtt', 'Sub', 'If', 'Equals', 'Not', 'And', 'Or', 'Join', 'Select', 'Split', 'FindInMap', 'ImportValue', 'Base64', 'Cidr', 'GetAZs', 'Condition'];
const customTags = INTRINSICS.flatMap((name) =>
  ['scalar', 'seq', 'map'].map((collection) => ({
    tag: `!${name}`,
    collection: collection === 'scalar' ? undefined : collection,
    resolve: (value) => ({ [name]: typeof value?.toJSON === 'function' ? value.toJSON() : value }),
  })),
);

// AppSync's built-in scalars and directives, which schema.graphql uses without declaring.
export const APPSYNC_PRELUDE = `
scalar AWSDate scalar AWSTime scalar AWSDateTime scalar AWSTimestamp scalar AWSEmail
scalar AWSJSON scalar AWSURL scalar AWSPhone scalar AWSIPAddress
directive @aws_iam on OBJECT | FIELD_DEFINITION
directive @aws_api_key on OBJECT | FIELD_DEFINITION
directive @aws_oidc on OBJECT | FIELD_DEFINITION
directive @aws_lambda on OBJECT | FIELD_DEFINITION
directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION
directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
`;

function getAttTarget(v, attr) {
  const body = v?.GetAtt;
  const text = Array.isArray(body) ? body.join('.') : body;
  if (typeof text !== 'string' || !text.endsWith(`.${attr}`)) {
    throw new Error(`expected !GetAtt X.${attr}, got ${JSON.stringify(v)}`);
  }
  return text.slice(0, -attr.length - 1);
}

/** template.yaml, parsed with CloudFormation's short-form intrinsics kept as { tag: value }. */
export function loadTemplate(root) {
  return parse(readFileSync(join(root, 'template.yaml'), 'utf8'), { customTags });
}

const globToRegex = (s) => s.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');

/**
 * A predicate over (type, field) that is true when one of `statements` allows `appsync:GraphQL`
 * on that field's ARN, `*` patterns included (`.../types/Query/fields/*`). Only the ARN's
 * `types/T/fields/F` tail is compared: the API id, region and account are the deployed stack's
 * and mean nothing here.
 */
export function statementsFieldMatcher(statements) {
  const patterns = [];
  for (const st of statements) {
    if (st.Effect !== 'Allow' || ![].concat(st.Action).includes('appsync:GraphQL')) continue;
    for (const r of [].concat(st.Resource)) {
      const arn = r.Sub ?? r;
      const m = /\/types\/([^/]+)\/fields\/([^/]+)$/.exec(arn);
      if (m) patterns.push(new RegExp(`^${globToRegex(m[1])}/${globToRegex(m[2])}$`));
    }
  }
  return (type, field) => patterns.some((p) => p.test(`${type}/${field}`));
}

/**
 * The IAM statements a template resource grants: an IAM role's inline policies, a managed
 * policy's document, or a SAM function's inline `Policies` (both branches of an `!If`).
 */
export function grantedStatements(resource) {
  const props = resource?.Properties ?? {};
  const docs = [];
  const add = (doc) => {
    if (doc?.If) for (const branch of doc.If.slice(1)) add(branch);
    else if (doc?.Statement) docs.push(doc);
  };
  switch (resource?.Type) {
    case 'AWS::IAM::Role': for (const p of props.Policies ?? []) add(p.PolicyDocument); break;
    case 'AWS::IAM::ManagedPolicy': add(props.PolicyDocument); break;
    case 'AWS::IAM::Policy': add(props.PolicyDocument); break;
    case 'AWS::Serverless::Function': for (const p of props.Policies ?? []) add(p); break;
    default: break;
  }
  return docs.flatMap((d) => [].concat(d.Statement));
}

/** The field permissions of an IAM role in template.yaml (see statementsFieldMatcher). */
export function roleFieldMatcher(template, roleResource) {
  const role = template.Resources[roleResource];
  if (!role) throw new Error(`template.yaml has no ${roleResource}`);
  return statementsFieldMatcher(grantedStatements(role));
}

function literal(value, where) {
  // The local stack creates these through the API, so only literal settings can be copied; a
  // setting built from an intrinsic (!Ref, !If, ...) would need a deployed stack to mean anything.
  const json = JSON.stringify(value);
  if (/"(Ref|GetAtt|Sub|If|Join|Select|FindInMap|ImportValue)"\s*:/.test(json)) {
    throw new Error(`${where}: the local stack copies only literal settings, got ${json}`);
  }
  return value;
}

/**
 * The Identity Pool's flags from template.yaml, as CreateIdentityPool inputs. Its providers are
 * not the template's: `tenantctl onboard` adds each tenant's pool (docs/operations/tenants.md), and the
 * pools' own settings come from `tenantctl pool-settings` (shared/src/pool_settings.rs, which a
 * test keeps equal to the template's pools).
 */
export function identityPoolSettings(template) {
  const ip = Object.values(template.Resources).find((r) => r.Type === 'AWS::Cognito::IdentityPool')?.Properties;
  if (!ip) throw new Error('template.yaml has no AWS::Cognito::IdentityPool');
  return {
    AllowUnauthenticatedIdentities: literal(ip.AllowUnauthenticatedIdentities ?? false, 'IdentityPool.AllowUnauthenticatedIdentities'),
    AllowClassicFlow: literal(ip.AllowClassicFlow ?? false, 'IdentityPool.AllowClassicFlow'),
  };
}

/**
 * { schema, resolvers: Map("Type.field" -> { dataSource (AWS_LAMBDA | NONE), function (null for
 *   NONE), code, maxBatchSize }), allows: { authenticated(type, field), unauthenticated(type,
 *   field), iam(type, field) } }
 * `allows` are the Identity Pool roles' field permissions (UserRole, GuestRole) and, for plain
 * IAM principals, every other appsync:GraphQL grant of the template.
 */
export function loadWiring(root) {
  const template = loadTemplate(root);
  const resources = template.Resources;
  const resolvers = new Map();
  for (const [name, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::AppSync::Resolver') continue;
    const p = r.Properties;
    const ds = resources[getAttTarget(p.DataSourceName, 'Name')];
    let fn = null;
    if (ds.Properties.Type === 'AWS_LAMBDA') {
      fn = resources[getAttTarget(ds.Properties.LambdaConfig.LambdaFunctionArn, 'Arn')].Metadata.BuildProperties.Binary;
    } else if (ds.Properties.Type !== 'NONE') {
      throw new Error(`${name}: the local endpoint serves AWS_LAMBDA and NONE data sources, not ${ds.Properties.Type}`);
    }
    resolvers.set(`${p.TypeName}.${p.FieldName}`, {
      resource: name,
      dataSource: ds.Properties.Type,
      function: fn,
      code: join(root, p.CodeS3Location),
      maxBatchSize: p.MaxBatchSize ?? 0,
    });
  }

  // The roles the Identity Pool hands out (IdentityPoolRoleAttachment): their policies decide
  // which root fields each kind of caller may call, as AppSync's IAM check does.
  const attachment = Object.values(resources).find((r) => r.Type === 'AWS::Cognito::IdentityPoolRoleAttachment');
  const roleOf = (kind) => getAttTarget(attachment.Properties.Roles[kind], 'Arn');
  const identityPoolRoles = new Set([roleOf('authenticated'), roleOf('unauthenticated')]);
  // Every other grant of appsync:GraphQL in the template (the note publisher function's role,
  // the operators' managed policy): what the one plain-IAM key may call when the endpoint runs
  // without --principals (scripts/local.sh gives it principals: each plain-IAM caller is then
  // checked against its own policies, local/iam/; the real-time endpoint still uses this union).
  const iamGrants = Object.entries(resources)
    .filter(([name]) => !identityPoolRoles.has(name))
    .flatMap(([, r]) => grantedStatements(r));
  const allows = {
    authenticated: roleFieldMatcher(template, roleOf('authenticated')),
    unauthenticated: roleFieldMatcher(template, roleOf('unauthenticated')),
    iam: statementsFieldMatcher(iamGrants),
  };

  const schema = buildSchema(APPSYNC_PRELUDE + readFileSync(join(root, 'schema.graphql'), 'utf8'));
  // Every root field has a resolver; for subscriptions that matters most: one without a resolver
  // would filter on the client's arguments only (or deliver everything).
  for (const typeName of ['Query', 'Mutation', 'Subscription']) {
    const type = schema.getType(typeName);
    for (const field of Object.keys(type?.getFields() ?? {})) {
      if (!resolvers.has(`${typeName}.${field}`)) {
        throw new Error(`schema field ${typeName}.${field} has no resolver in template.yaml`);
      }
    }
  }
  // The API's environment variables (ctx.env of the APPSYNC_JS handlers), as the template writes
  // them: the local endpoint resolves the values it knows (see server.mjs).
  const api = Object.values(resources).find((r) => r.Type === 'AWS::AppSync::GraphQLApi');
  const environment = api?.Properties?.EnvironmentVariables ?? {};
  return { schema, resolvers, allows, environment, roles: { authenticated: roleOf('authenticated'), unauthenticated: roleOf('unauthenticated') } };
}
