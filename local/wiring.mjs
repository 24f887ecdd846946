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

/**
 * { schema, resolvers: Map("Type.field" -> { function, code, maxBatchSize }), guestFields: Set("Type.field") }
 */
export function loadWiring(root) {
  const template = parse(readFileSync(join(root, 'template.yaml'), 'utf8'), { customTags });
  const resources = template.Resources;
  const resolvers = new Map();
  for (const [name, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::AppSync::Resolver') continue;
    const p = r.Properties;
    const ds = resources[getAttTarget(p.DataSourceName, 'Name')];
    const fn = resources[getAttTarget(ds.Properties.LambdaConfig.LambdaFunctionArn, 'Arn')];
    resolvers.set(`${p.TypeName}.${p.FieldName}`, {
      resource: name,
      function: fn.Metadata.BuildProperties.Binary,
      code: join(root, p.CodeS3Location),
      maxBatchSize: p.MaxBatchSize ?? 0,
    });
  }

  const guestFields = new Set();
  for (const policy of resources.GuestRole.Properties.Policies) {
    for (const st of policy.PolicyDocument.Statement) {
      for (const r of [].concat(st.Resource)) {
        const arn = r.Sub ?? r;
        const m = /\/types\/([^/]+)\/fields\/([^/]+)$/.exec(arn);
        if (m) guestFields.add(`${m[1]}.${m[2]}`);
      }
    }
  }

  const schema = buildSchema(APPSYNC_PRELUDE + readFileSync(join(root, 'schema.graphql'), 'utf8'));
  for (const typeName of ['Query', 'Mutation']) {
    const type = schema.getType(typeName);
    for (const field of Object.keys(type?.getFields() ?? {})) {
      if (!resolvers.has(`${typeName}.${field}`)) {
        throw new Error(`schema field ${typeName}.${field} has no resolver in template.yaml`);
      }
    }
  }
  return { schema, resolvers, guestFields };
}
