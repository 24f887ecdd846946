// What IAM authorizes for one DynamoDB API call: the (action, resource, context keys) requests
// derived from X-Amz-Target and the JSON body the way DynamoDB asks IAM
// (docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html,
// .../service-authorization/latest/reference/list_amazondynamodb.html):
//   - one request per operation: action dynamodb:<Operation> on the table ARN, or
//     table/<t>/index/<i> for a Query/Scan on an index;
//   - dynamodb:LeadingKeys: the partition key values of every key/item the call names (for a
//     Query the partition key value of KeyConditionExpression / KeyConditions);
//   - BatchGetItem / BatchWriteItem: one request per table, with that table's keys;
//   - TransactWriteItems: one request per element, with the element's own action (PutItem,
//     UpdateItem, DeleteItem, ConditionCheckItem) and dynamodb:EnclosingOperation =
//     TransactWriteItems; TransactGetItems likewise (GetItem, EnclosingOperation TransactGetItems);
//   - dynamodb:ReturnValues, dynamodb:Select, dynamodb:ReturnConsumedCapacity when sent;
//   - control plane (DescribeTable, CreateTable, UpdateTable, …) and streams: the action on the
//     table (or stream) ARN; ListTables / ListStreams on "*".
// `keySchema(table, index)` gives the partition key attribute name of a table or index.

export const TARGET_PREFIXES = { DynamoDB_20120810: 'dynamodb', DynamoDBStreams_20120810: 'dynamodb' };

const tableArn = (ctx, table) => (String(table).startsWith('arn:') ? String(table) : `arn:aws:dynamodb:${ctx.region}:${ctx.accountId}:table/${table}`);

/** The attribute value as IAM sees it in dynamodb:LeadingKeys (the scalar's text). */
function scalar(av) {
  if (!av || typeof av !== 'object') return undefined;
  if ('S' in av) return av.S;
  if ('N' in av) return av.N;
  if ('B' in av) return av.B;
  return JSON.stringify(av);
}

/** The value compared with the partition key in a KeyConditionExpression, e.g. `#pk = :pk AND …`. */
export function keyConditionValue(body, hashKey) {
  if (body.KeyConditions?.[hashKey]) {
    return scalar(body.KeyConditions[hashKey].AttributeValueList?.[0]);
  }
  const expr = body.KeyConditionExpression;
  if (typeof expr !== 'string') return undefined;
  const names = body.ExpressionAttributeNames ?? {};
  const values = body.ExpressionAttributeValues ?? {};
  const nameOf = (tok) => names[tok] ?? tok;
  // The partition key's condition is always an equality, either way round.
  const re = /([#:]?[A-Za-z0-9_.-]+)\s*=\s*([#:]?[A-Za-z0-9_.-]+)/g;
  for (const m of expr.matchAll(re)) {
    const [, a, b] = m;
    if (nameOf(a) === hashKey && b.startsWith(':')) return scalar(values[b]);
    if (nameOf(b) === hashKey && a.startsWith(':')) return scalar(values[a]);
  }
  return undefined;
}

function optionalKeys(body) {
  const ctx = {};
  if (body.ReturnValues) ctx['dynamodb:ReturnValues'] = body.ReturnValues;
  if (body.Select) ctx['dynamodb:Select'] = body.Select;
  if (body.ReturnConsumedCapacity) ctx['dynamodb:ReturnConsumedCapacity'] = body.ReturnConsumedCapacity;
  return ctx;
}

const leading = (values) => ({ 'dynamodb:LeadingKeys': values.filter((v) => v !== undefined) });

/**
 * [{ action, resource, context, element? }] for one call.
 *   target: X-Amz-Target (DynamoDB_20120810.PutItem), body: the parsed JSON body
 *   ctx: { region, accountId }, keySchema(table, index) -> partition key attribute name
 */
export async function authorizationRequests(target, body, ctx, keySchema) {
  const [prefix, op] = String(target ?? '').split('.');
  if (!(prefix in TARGET_PREFIXES) || !op) throw new Error(`unknown X-Amz-Target ${target}`);
  const action = `dynamodb:${op}`;
  const b = body ?? {};
  const pkOf = async (table, item, index) => {
    const hash = await keySchema(table, index);
    return hash === undefined ? undefined : scalar(item?.[hash]);
  };

  if (prefix === 'DynamoDBStreams_20120810') {
    if (op === 'ListStreams') return [{ action, resource: b.TableName ? `${tableArn(ctx, b.TableName)}/stream/*` : '*', context: {} }];
    // GetRecords names only an iterator; its stream is the table's (one per table here).
    const stream = b.StreamArn ?? '*';
    return [{ action, resource: stream, context: {} }];
  }

  switch (op) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [{ action, resource: tableArn(ctx, b.TableName), context: { ...leading([await pkOf(b.TableName, b.Key)]), ...optionalKeys(b) } }];
    case 'PutItem':
      return [{ action, resource: tableArn(ctx, b.TableName), context: { ...leading([await pkOf(b.TableName, b.Item)]), ...optionalKeys(b) } }];
    case 'Query': {
      const hash = await keySchema(b.TableName, b.IndexName);
      const resource = b.IndexName ? `${tableArn(ctx, b.TableName)}/index/${b.IndexName}` : tableArn(ctx, b.TableName);
      return [{ action, resource, context: { ...leading([keyConditionValue(b, hash)]), ...optionalKeys(b) } }];
    }
    case 'Scan': {
      const resource = b.IndexName ? `${tableArn(ctx, b.TableName)}/index/${b.IndexName}` : tableArn(ctx, b.TableName);
      return [{ action, resource, context: optionalKeys(b) }];
    }
    case 'BatchGetItem': {
      const out = [];
      for (const [table, req] of Object.entries(b.RequestItems ?? {})) {
        const keys = await Promise.all((req.Keys ?? []).map((k) => pkOf(table, k)));
        out.push({ action, resource: tableArn(ctx, table), context: { ...leading([...new Set(keys)]), ...optionalKeys(b) } });
      }
      return out;
    }
    case 'BatchWriteItem': {
      const out = [];
      for (const [table, reqs] of Object.entries(b.RequestItems ?? {})) {
        const keys = await Promise.all(reqs.map((r) => pkOf(table, r.PutRequest?.Item ?? r.DeleteRequest?.Key)));
        out.push({ action, resource: tableArn(ctx, table), context: { ...leading([...new Set(keys)]), ...optionalKeys(b) } });
      }
      return out;
    }
    case 'TransactWriteItems': {
      const kinds = { Put: ['PutItem', 'Item'], Update: ['UpdateItem', 'Key'], Delete: ['DeleteItem', 'Key'], ConditionCheck: ['ConditionCheckItem', 'Key'] };
      const out = [];
      for (const [i, el] of (b.TransactItems ?? []).entries()) {
        const [kind] = Object.keys(el);
        const [elementAction, keyField] = kinds[kind] ?? [kind, 'Key'];
        const inner = el[kind] ?? {};
        out.push({
          action: `dynamodb:${elementAction}`,
          resource: tableArn(ctx, inner.TableName),
          context: { ...leading([await pkOf(inner.TableName, inner[keyField])]), 'dynamodb:EnclosingOperation': 'TransactWriteItems', ...optionalKeys(inner) },
          element: i,
        });
      }
      return out;
    }
    case 'TransactGetItems': {
      const out = [];
      for (const [i, el] of (b.TransactItems ?? []).entries()) {
        const inner = el.Get ?? {};
        out.push({
          action: 'dynamodb:GetItem',
          resource: tableArn(ctx, inner.TableName),
          context: { ...leading([await pkOf(inner.TableName, inner.Key)]), 'dynamodb:EnclosingOperation': 'TransactGetItems' },
          element: i,
        });
      }
      return out;
    }
    case 'ListTables':
    case 'DescribeLimits':
    case 'DescribeEndpoints':
      return [{ action, resource: '*', context: {} }];
    case 'TagResource':
    case 'UntagResource':
    case 'ListTagsOfResource':
      return [{ action, resource: b.ResourceArn ?? '*', context: {} }];
    default:
      // DescribeTable, CreateTable, UpdateTable, DeleteTable, UpdateTimeToLive,
      // DescribeTimeToLive, (Describe|Update)ContinuousBackups, …: the table named.
      if (b.TableName) return [{ action, resource: tableArn(ctx, b.TableName), context: {} }];
      return [{ action, resource: '*', context: {} }];
  }
}
