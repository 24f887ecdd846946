// The Lambda event source mapping of template.yaml's stream function, served locally: reads the
// table's DynamoDB stream on DynamoDB Local (DescribeTable → DescribeStream → GetShardIterator →
// GetRecords, the DynamoDB Streams API over its JSON protocol, signed like any AWS SDK call) and
// invokes the function under `cargo lambda watch` with Lambda's DynamoDB event, as Lambda does:
//
//   - the mapping's settings come from template.yaml (the function's `Type: DynamoDB` event):
//     StartingPosition, BatchSize, MaximumRetryAttempts, FilterCriteria (event filtering on the
//     record: JSON patterns with exact values, `prefix` and `exists`), FunctionResponseTypes;
//   - a shard's records are delivered in order, one batch at a time; a parent shard is read to
//     its end before its children;
//   - a failed invocation retries the batch (bounded, with backoff); with ReportBatchItemFailures
//     the function's `batchItemFailures` make it resume from the first failed record; a batch
//     that still fails after MaximumRetryAttempts is set aside (logged here; on AWS: the
//     on-failure destination) and the shard moves on.
//
// Differences from AWS: polled every 100 ms (Lambda polls a shard about four times a second);
// BisectBatchOnFunctionError and ParallelizationFactor are not applied (one batch at a time per
// shard, which keeps order the same way).
import { createHash, createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadTemplate } from './wiring.mjs';

const POLL_MS = 100;

/** The stream event source mapping of template.yaml: { function, ...settings }. */
export function streamMapping(template) {
  for (const [name, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Serverless::Function') continue;
    for (const ev of Object.values(r.Properties?.Events ?? {})) {
      if (ev.Type !== 'DynamoDB') continue;
      const p = ev.Properties;
      return {
        resource: name,
        function: r.Metadata.BuildProperties.Binary,
        startingPosition: p.StartingPosition ?? 'LATEST',
        batchSize: p.BatchSize ?? 100,
        maximumRetryAttempts: p.MaximumRetryAttempts ?? -1,
        reportBatchItemFailures: (p.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
        patterns: (p.FilterCriteria?.Filters ?? []).map((f) => JSON.parse(f.Pattern)),
      };
    }
  }
  throw new Error('template.yaml has no function with a DynamoDB stream event');
}

/** Lambda event filtering: does `value` match the pattern `pattern` (objects nest, leaves list rules)? */
export function matchesPattern(pattern, value) {
  for (const [key, rule] of Object.entries(pattern)) {
    const v = value?.[key];
    if (Array.isArray(rule)) {
      const ok = rule.some((r) => {
        if (r !== null && typeof r === 'object') {
          if ('prefix' in r) return typeof v === 'string' && v.startsWith(r.prefix);
          if ('exists' in r) return (v !== undefined) === r.exists;
          throw new Error(`event filtering rule ${JSON.stringify(r)} is not supported locally`);
        }
        return v === r;
      });
      if (!ok) return false;
    } else if (rule !== null && typeof rule === 'object') {
      if (v === null || typeof v !== 'object' || !matchesPattern(rule, v)) return false;
    } else {
      throw new Error(`event filtering pattern ${JSON.stringify(pattern)}: leaves must be lists`);
    }
  }
  return true;
}

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const hmac = (key, s) => createHmac('sha256', key).update(s).digest();

/** A DynamoDB / DynamoDB Streams JSON API call (SigV4: DynamoDB Local keeps one database per key). */
async function call(endpoint, target, body, { region, accessKeyId, secretAccessKey }) {
  const url = new URL(endpoint);
  const payload = JSON.stringify(body);
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers = { 'content-type': 'application/x-amz-json-1.0', host: url.host, 'x-amz-date': amzDate, 'x-amz-target': target };
  const signed = Object.keys(headers).sort();
  const canonical = ['POST', '/', '', ...signed.map((h) => `${h}:${headers[h]}`), '', signed.join(';'), sha256(payload)].join('\n');
  const scope = `${day}/${region}/dynamodb/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = ['dynamodb', 'aws4_request'].reduce((k, s) => hmac(k, s), hmac(hmac(`AWS4${secretAccessKey}`, day), region));
  const signature = hmac(key, toSign).toString('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  const res = await fetch(url, { method: 'POST', headers, body: payload });
  const text = await res.text();
  const out = text ? JSON.parse(text) : {};
  if (!res.ok) {
    const e = new Error(`${target}: ${out.__type ?? res.status} ${out.message ?? out.Message ?? ''}`);
    e.type = String(out.__type ?? '').split('#').pop();
    throw e;
  }
  return out;
}

/**
 * Starts polling. Returns { stats(), stop() }.
 *   dynamodb: DynamoDB Local's URL; table: the table name; lambda: cargo lambda watch's Invoke API
 *   root: the repository (template.yaml); region, accessKeyId, secretAccessKey: the local key
 */
export function startStreamPoller({ dynamodb, table, lambda, root, region, accessKeyId, secretAccessKey, log = () => {} }) {
  const mapping = streamMapping(loadTemplate(root));
  const creds = { region, accessKeyId, secretAccessKey };
  const counters = { batches: 0, records: 0, filteredOut: 0, invocations: 0, retries: 0, setAside: 0, lastError: null };
  let stopped = false;
  const shards = new Map(); // shardId -> { iterator, parent, done }

  async function invoke(records, streamArn) {
    counters.invocations += 1;
    const event = { Records: records.map((r) => ({ ...r, eventSourceARN: streamArn })) };
    const res = await fetch(`${lambda}/2015-03-31/functions/${encodeURIComponent(mapping.function)}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    const text = await res.text();
    if (res.status >= 400 || res.headers.get('x-amz-function-error')) return { failedFrom: 0, error: text.slice(0, 300) };
    if (!mapping.reportBatchItemFailures) return { failedFrom: null };
    const failures = JSON.parse(text || '{}')?.batchItemFailures ?? [];
    if (failures.length === 0) return { failedFrom: null };
    // Lambda resumes from the lowest failed sequence number.
    const ids = new Set(failures.map((f) => f.itemIdentifier));
    const at = records.findIndex((r) => ids.has(r.dynamodb.SequenceNumber));
    return { failedFrom: at < 0 ? 0 : at, error: `batchItemFailures ${[...ids].join(',')}` };
  }

  /** Delivers one batch, retrying as Lambda does; resolves when it is done or set aside. */
  async function deliver(records, streamArn) {
    let batch = records;
    let attempt = 0;
    for (;;) {
      const { failedFrom, error } = await invoke(batch, streamArn);
      if (failedFrom === null) return;
      batch = batch.slice(failedFrom);
      attempt += 1;
      counters.retries += 1;
      counters.lastError = error;
      if (mapping.maximumRetryAttempts >= 0 && attempt > mapping.maximumRetryAttempts) {
        counters.setAside += batch.length;
        log(`streams: set aside ${batch.length} record(s) after ${attempt} attempts: ${error}`);
        return;
      }
      await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)));
    }
  }

  async function pollShard(streamArn, shardId, state) {
    const out = await call(dynamodb, 'DynamoDBStreams_20120810.GetRecords', { ShardIterator: state.iterator, Limit: mapping.batchSize }, creds);
    state.iterator = out.NextShardIterator ?? null;
    if (!state.iterator) state.done = true;
    const records = out.Records ?? [];
    if (records.length === 0) return false;
    const kept = mapping.patterns.length ? records.filter((r) => mapping.patterns.some((p) => matchesPattern(p, r))) : records;
    counters.records += records.length;
    counters.filteredOut += records.length - kept.length;
    if (kept.length) {
      counters.batches += 1;
      await deliver(kept, streamArn);
    }
    state.last = records[records.length - 1].dynamodb.SequenceNumber;
    return true;
  }

  /** A fresh iterator for a shard whose iterator expired: right after the last record read. */
  async function reopen(streamArn, shardId, state) {
    const req = state.last
      ? { StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: state.last }
      : { StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' };
    state.iterator = (await call(dynamodb, 'DynamoDBStreams_20120810.GetShardIterator', req, creds)).ShardIterator;
  }

  async function loop() {
    let streamArn = null;
    while (!stopped && !streamArn) {
      try {
        streamArn = (await call(dynamodb, 'DynamoDB_20120810.DescribeTable', { TableName: table }, creds)).Table?.LatestStreamArn ?? null;
        if (!streamArn) throw new Error(`table ${table} has no stream (tenantctl create-table enables it)`);
      } catch (e) {
        counters.lastError = e.message;
        await sleep(500);
      }
    }
    let first = true;
    while (!stopped) {
      try {
        const desc = await call(dynamodb, 'DynamoDBStreams_20120810.DescribeStream', { StreamArn: streamArn }, creds);
        for (const s of desc.StreamDescription?.Shards ?? []) {
          if (shards.has(s.ShardId)) continue;
          // Shards open when the mapping starts begin at StartingPosition; later ones (children
          // of a closed shard) from their first record.
          const type = first ? mapping.startingPosition : 'TRIM_HORIZON';
          const it = await call(dynamodb, 'DynamoDBStreams_20120810.GetShardIterator', { StreamArn: streamArn, ShardId: s.ShardId, ShardIteratorType: type }, creds);
          shards.set(s.ShardId, { iterator: it.ShardIterator, parent: s.ParentShardId ?? null, done: false, last: null });
        }
        first = false;
        let busy = false;
        for (const [id, state] of shards) {
          if (state.done) continue;
          const parent = state.parent && shards.get(state.parent);
          if (parent && !parent.done) continue;
          try {
            busy = (await pollShard(streamArn, id, state)) || busy;
          } catch (e) {
            if (e.type !== 'ExpiredIteratorException') throw e;
            await reopen(streamArn, id, state);
          }
        }
        if (!busy) await sleep(POLL_MS);
      } catch (e) {
        counters.lastError = e.message;
        await sleep(500);
      }
    }
  }

  const done = loop();
  return {
    stats: () => ({ ...counters, shards: shards.size, function: mapping.function }),
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}
