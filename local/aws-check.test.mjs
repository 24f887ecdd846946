// scripts/aws-check.sh without a stack: its usage and refusals, and the CloudFormation steps of
// local/e2e/aws_check.py (the lines only a real stack reaches: stack-env, stack-status,
// delete-stack and its Retain-policy clean-up) against moto_server standing in for AWS.
// (The whole script runs against the local stack in CI: scripts/aws-check.sh --local.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'aws-check.sh');
const HELPER = join(ROOT, 'local', 'e2e', 'aws_check.py');

// The caller's AWS_ENDPOINT_URL_<SERVICE> variables (scripts/test.sh points DynamoDB at its
// DynamoDB Local) would win over the AWS_ENDPOINT_URL these tests set for moto: left out.
const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_ENDPOINT_URL')));

function run(cmd, args, env = {}) {
  return spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...inherited, ...env }, timeout: 120_000 });
}

test('--help prints the usage and writes nothing', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'aws-check-help-'));
  try {
    for (const flag of ['-h', '--help']) {
      const r = run(SCRIPT, [flag], { TMPDIR: tmp });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^One command that checks a real stack/);
      assert.match(r.stdout, /scripts\/aws-check\.sh --stack NAME \[--region R\] \[--deploy\] \[--delete\]/);
      assert.match(r.stdout, /scripts\/aws-check\.sh --local/);
      assert.doesNotMatch(r.stdout, /set -euo/);
      assert.equal(r.stderr, '');
    }
    assert.deepEqual(readdirSync(tmp), [], 'no temporary files');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('refuses contradictory or missing arguments with exit code 2, before doing anything', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'aws-check-args-'));
  try {
    for (const args of [[], ['--deploy'], ['--local', '--stack', 'x'], ['--local', '--delete'], ['--stack', 'x', '--outputs', 'f'], ['--nonsense']]) {
      const r = run(SCRIPT, args, { TMPDIR: tmp });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
    assert.deepEqual(readdirSync(tmp), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- against moto_server

const hasMoto = run('sh', ['-c', 'command -v moto_server']).status === 0;
let moto;
let env;

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

before(async () => {
  if (!hasMoto) return;
  const port = await freePort();
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  env = { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'eu-central-1' };
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(env.AWS_ENDPOINT_URL);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('moto_server did not start');
});

after(() => moto?.kill());

/** A stack with the outputs aws-check reads and the template's retained kinds of resources. */
const STACK_TEMPLATE = JSON.stringify({
  Parameters: { TenantCacheTtlSeconds: { Type: 'Number', Default: 30 } },
  Resources: {
    Table: {
      Type: 'AWS::DynamoDB::Table', DeletionPolicy: 'Retain',
      Properties: { AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' },
    },
    Pool: { Type: 'AWS::Cognito::UserPool', DeletionPolicy: 'Retain', Properties: { UserPoolName: 'aws-check-test' } },
  },
  Outputs: {
    TableName: { Value: { Ref: 'Table' } },
    IdentityPoolId: { Value: 'eu-central-1:00000000-0000-0000-0000-000000000000' },
    GraphQLUrl: { Value: 'https://example.appsync-api.eu-central-1.amazonaws.com/graphql' },
    RealtimeUrl: { Value: 'wss://example.appsync-realtime-api.eu-central-1.amazonaws.com/graphql' },
    Region: { Value: { Ref: 'AWS::Region' } },
  },
});

function python(code, ...args) {
  const r = run('python3', ['-c', code, ...args], env);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const createStack = (name) => python(`
import sys, boto3
boto3.client("cloudformation").create_stack(StackName=sys.argv[1], TemplateBody=sys.argv[2])
`, name, STACK_TEMPLATE);

test('stack-status, stack-env and delete-stack --retained delete: nothing of the stack is left', { skip: !hasMoto && 'moto_server is not installed (pip install -r local/requirements.txt)' }, () => {
  const status = (name) => run('python3', [HELPER, 'stack-status', name, '--region', 'eu-central-1'], env);
  assert.equal(status('chk-none').stdout.trim(), 'NONE');
  createStack('chk-one');
  assert.equal(status('chk-one').stdout.trim(), 'CREATE_COMPLETE');

  const e = run('python3', [HELPER, 'stack-env', 'chk-one', '--region', 'eu-central-1'], env);
  assert.equal(e.status, 0, e.stderr);
  const vars = Object.fromEntries(e.stdout.trim().split('\n').map((l) => l.replace(/^export /, '').split('=')));
  assert.match(vars.TABLE_NAME, /^chk-one-Table-/);
  assert.equal(vars.AWS_REGION, 'eu-central-1');
  assert.equal(vars.TENANT_CACHE_TTL_SECONDS, '30');
  assert.equal(vars.REALTIME_URL, 'wss://example.appsync-realtime-api.eu-central-1.amazonaws.com/graphql');
  assert.equal(vars.IDENTITY_POOL_ID, 'eu-central-1:00000000-0000-0000-0000-000000000000');

  const d = run('python3', [HELPER, 'delete-stack', 'chk-one', '--region', 'eu-central-1', '--retained', 'delete', '--poll-seconds', '1'], env);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stderr, /retained AWS::DynamoDB::Table chk-one-Table-\S+: deleted/);
  // (moto deletes the pool with the stack despite its Retain policy: probed, found gone.)
  assert.equal(status('chk-one').stdout.trim(), 'NONE');
  assert.equal(python('import boto3; print(boto3.client("dynamodb").list_tables()["TableNames"])'), '[]');
  // Idempotent: a second run finds nothing to do.
  const again = run('python3', [HELPER, 'delete-stack', 'chk-one', '--region', 'eu-central-1'], env);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /already gone/);
});

test('delete-stack --retained keep names what stays and the command that removes it', { skip: !hasMoto && 'moto_server is not installed' }, () => {
  createStack('chk-two');
  const d = run('python3', [HELPER, 'delete-stack', 'chk-two', '--region', 'eu-central-1', '--poll-seconds', '1'], env);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stderr, /NOT REMOVED \(the stack's Retain policy\) AWS::DynamoDB::Table (chk-two-Table-\S+): aws dynamodb update-table --table-name \1 --no-deletion-protection-enabled && aws dynamodb delete-table --table-name \1/);
  assert.equal(python('import boto3; print(len(boto3.client("dynamodb").list_tables()["TableNames"]))'), '1', 'kept');
});

test('delete-users is idempotent: users and pools already gone are not failures', { skip: !hasMoto && 'moto_server is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'aws-check-ledger-'));
  try {
    const ledger = join(dir, 'ledger.jsonl');
    const pool = python(`
import json, sys, boto3
idp = boto3.client("cognito-idp")
pool = idp.create_user_pool(PoolName="ledger")["UserPool"]["Id"]
idp.admin_create_user(UserPoolId=pool, Username="u@x.example", MessageAction="SUPPRESS")
with open(sys.argv[1], "w") as f:
    for who in ["u@x.example", "never@x.example"]:
        f.write(json.dumps({"kind": "user", "userPoolId": pool, "username": who}) + "\\n")
    f.write(json.dumps({"kind": "user", "userPoolId": "eu-central-1_gone", "username": "u@x.example"}) + "\\n")
print(pool)
`, ledger);
    const r = run('python3', [HELPER, 'delete-users', '--ledger', ledger], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`deleted user u@x.example in ${pool}`));
    assert.equal(python(`import boto3; print(len(boto3.client("cognito-idp").list_users(UserPoolId="${pool}")["Users"]))`), '0');
    assert.equal(run('python3', [HELPER, 'delete-users', '--ledger', ledger], env).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metrics: a tenant with EMF metrics in CloudWatch passes, one without fails', { skip: !hasMoto && 'moto_server is not installed' }, () => {
  python(`
import boto3
boto3.client("cloudwatch").put_metric_data(Namespace="NotesApi", MetricData=[{"MetricName": "Invocations", "Value": 1, "Unit": "Count",
    "Dimensions": [{"Name": "tenant", "Value": "chkmetrica"}, {"Name": "field", "Value": "Query.me"}]}])
`);
  const ok = run('python3', [HELPER, 'metrics', '--tenant', 'chkmetrica', '--region', 'eu-central-1', '--wait', '0'], env);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /ok {3}NotesApi\/Invocations has tenant=chkmetrica: 1 metric\(s\), fields Query\.me/);
  const none = run('python3', [HELPER, 'metrics', '--tenant', 'chkmetricb', '--region', 'eu-central-1', '--wait', '0'], env);
  assert.equal(none.status, 1);
  assert.match(none.stdout, /FAIL no NotesApi\/Invocations metric with tenant=chkmetricb/);
});

test('against a stack without the outputs it needs: stops, deletes the stack with --delete, reports', { skip: !hasMoto && 'moto_server is not installed' }, () => {
  python(`
import boto3
boto3.client("cloudformation").create_stack(StackName="chk-three", TemplateBody='{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}')
`);
  const r = run(SCRIPT, ['--stack', 'chk-three', '--region', 'eu-central-1', '--delete'], env);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /stack chk-three has no output/);
  assert.match(r.stdout, /^== aws-check: what it verified \(stack chk-three, \d+ s\)$/m);
  assert.match(r.stdout, /^FAIL {2}the run stopped before its suites ended \(exit 1/m);
  assert.match(r.stdout, /^PASS {2}stack chk-three deleted$/m);
  assert.match(r.stdout, /^== resources it created\n {2}\(none\)$/m);
  assert.match(r.stdout, /^== cleanup: everything it created is removed$/m);
  assert.equal(run('python3', [HELPER, 'stack-status', 'chk-three', '--region', 'eu-central-1'], env).stdout.trim(), 'NONE');
});
