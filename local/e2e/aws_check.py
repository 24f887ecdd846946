#!/usr/bin/env python3
"""The Cognito and CloudFormation steps of scripts/aws-check.sh, with unmodified boto3.

    aws_check.py stack-env STACK [--region R]
        Prints `export NAME=VALUE` lines for the stack's TableName, IdentityPoolId, GraphQLUrl,
        RealtimeUrl, Region and TenantCacheTtlSeconds (the script evals them).
    aws_check.py stack-status STACK [--region R]
        Prints the stack's status, or NONE when there is no such stack.
    aws_check.py users --base OUTPUTS --out FILE --ledger LEDGER [--realtime-url URL] REPORT_A REPORT_B
        After `tenantctl onboard --json` (REPORT_A/B): gives each tenant's admin a permanent
        password (AdminSetUserPassword), creates alice and carol in tenant A and bob in tenant B
        (AdminCreateUser + AdminSetUserPassword --permanent) and writes FILE in the shape of
        .local/outputs.json: OUTPUTS' stack keys, these two tenants with users and passwords
        and each its report's identityPoolId (the Identity Pool its users sign in through).
        Every user created is appended to LEDGER (JSON lines) before it is created.
    aws_check.py credentials --outputs FILE --out CREDS
        SRP sign-in of alice, carol and bob, their Identity Pool credentials, and a guest's.
    aws_check.py first-admin --outputs FILE --state STATE
        Tenant A's admin signs in (SRP) and is its ADMIN on the first call (the first-admin claim);
        the id token and credentials are kept in STATE for after-offboard.
    aws_check.py after-offboard --outputs FILE --state STATE [--cache-ttl S]
        After `tenantctl offboard --delete-pool`: the kept id token gets no credentials
        (NotAuthorizedException), the old credentials are refused by the API within the
        functions' tenant cache TTL, and the User Pool is gone.
    aws_check.py metrics --tenant ID [--wait S]
        The functions' EMF lines became CloudWatch metrics: namespace NotesApi, metric Invocations
        with the dimension tenant=ID (polled: CloudWatch lists a new metric within minutes).
    aws_check.py delete-users --ledger LEDGER
        Cleanup: deletes the ledger's users that still exist (their pools may be gone already).
    aws_check.py delete-stack STACK [--region R] [--retained delete|keep]
        Deletes the stack and waits. What its Retain policy keeps (the table, the demo User Pools,
        the Identity Pool) is deleted too with `--retained delete` (a stack this run created),
        else listed with the commands that remove it.

Admin calls use the standard AWS credentials and endpoint variables
(AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, ...), so the same code runs against AWS and against
the local stack. Exit code 1 on a failed check; each check prints `ok` or `FAIL` with its title.
"""
import argparse
import json
import os
import secrets
import shlex
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

# No __pycache__ beside the suites (the import below would write one into the worktree).
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from signin_check import Stack  # noqa: E402  (the same sign-in chain the boto3 suite uses)


def password():
    # Cognito's policy here (shared::pool_settings): >= 12 characters, upper, lower and digits.
    return f"Chk-{secrets.token_hex(8)}-Aa1"


def region_of(outputs):
    return outputs["region"]


def stack_env(args):
    session = boto3.session.Session(region_name=args.region) if args.region else boto3.session.Session()
    cfn = session.client("cloudformation")
    stack = cfn.describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    params = {p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue")) for p in stack.get("Parameters", [])}
    wanted = {
        "TABLE_NAME": outputs.get("TableName"),
        "IDENTITY_POOL_ID": outputs.get("IdentityPoolId"),
        "GRAPHQL_URL": outputs.get("GraphQLUrl"),
        "REALTIME_URL": outputs.get("RealtimeUrl"),
        "AWS_REGION": outputs.get("Region"),
        # The functions' tenant cache (how long an offboarded tenant's old credentials may work).
        "TENANT_CACHE_TTL_SECONDS": params.get("TenantCacheTtlSeconds") or "60",
    }
    missing = [k for k, v in wanted.items() if not v]
    if missing:
        sys.exit(f"stack {args.stack} lacks the outputs for {', '.join(missing)}")
    for k, v in wanted.items():
        print(f"export {k}={shlex.quote(v)}")


def stack_status(args):
    session = boto3.session.Session(region_name=args.region) if args.region else boto3.session.Session()
    try:
        print(session.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]["StackStatus"])
    except ClientError as e:
        if "does not exist" not in str(e):
            raise
        print("NONE")


def ledger_add(path, entry):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def ensure_user(idp, pool_id, username, pw, ledger):
    ledger_add(ledger, {"kind": "user", "userPoolId": pool_id, "username": username})
    try:
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            UserAttributes=[{"Name": "email", "Value": username}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
    except ClientError as e:
        if e.response["Error"]["Code"] != "UsernameExistsException":
            raise
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=pw, Permanent=True)


def users(args):
    base = json.loads(Path(args.base).read_text(encoding="utf-8"))
    reports = [json.loads(Path(r).read_text(encoding="utf-8")) for r in args.reports]
    if len(reports) != 2:
        sys.exit("users: two onboard reports (tenant A, tenant B)")
    idp = boto3.client("cognito-idp", region_name=region_of(base))
    names = [["alice", "carol"], ["bob"]]
    tenants = []
    for report, extra in zip(reports, names):
        pool = report["userPoolId"]
        tid = report["tenantId"]
        admin = {"name": "admin", "username": report["admin"]["email"], "password": password()}
        # The admin's first password change, done for them (onboard set a temporary one).
        idp.admin_set_user_password(UserPoolId=pool, Username=admin["username"], Password=admin["password"], Permanent=True)
        people = []
        for name in extra:
            u = {"name": name, "username": f"{name}@{tid}.example", "password": password()}
            ensure_user(idp, pool, u["username"], u["password"], args.ledger)
            people.append(u)
            print(f"created user {u['username']} in {pool}", file=sys.stderr)
        tenants.append({"tenantId": tid, "userPoolId": pool, "userPoolClientId": report["userPoolClientId"],
                        # The Identity Pool onboard put the tenant in (tenants live in several).
                        "identityPoolId": report.get("identityPoolId") or base["identityPoolId"],
                        "users": people + [admin]})
    # The stack's keys (region, graphqlUrl, identityPoolId, allowGuests, endpoints if local,
    # realtimeUrl), without the base file's tenants and refusal-test pools.
    doc = {k: v for k, v in base.items() if k not in ("tenants", "outsider")}
    if args.realtime_url:
        doc["realtimeUrl"] = args.realtime_url
    doc["tenants"] = tenants
    tmp = f"{args.out}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds passwords
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)


def credentials(args):
    stack = Stack(json.loads(Path(args.outputs).read_text(encoding="utf-8")))
    out = {}
    a, b = stack.o["tenants"][:2]
    for tenant, name in [(a, "alice"), (a, "carol"), (b, "bob")]:
        identity_id, c = stack.user_credentials(tenant["tenantId"], name)
        out[name] = {"tenantId": tenant["tenantId"], "identityId": identity_id,
                     "AccessKeyId": c.access_key, "SecretKey": c.secret_key, "SessionToken": c.token}
    if stack.o.get("allowGuests"):
        identity_id, c = stack.credentials()
        out["guest"] = {"tenantId": None, "identityId": identity_id,
                        "AccessKeyId": c.access_key, "SecretKey": c.secret_key, "SessionToken": c.token}
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(out, f)


class Checks:
    def __init__(self, suite):
        self.suite = suite
        self.results = []

    def run(self, title, fn):
        try:
            fn()
            self.results.append(True)
            print(f"ok   {title}")
        except Exception as e:  # a failed check is reported, and the others still run
            self.results.append(False)
            print(f"FAIL {title}: {e!r}")

    def done(self):
        passed = sum(self.results)
        failed = len(self.results) - passed
        print(f"{self.suite}: {passed} passed, {failed} failed")
        return 1 if failed else 0


def first_admin(args):
    stack = Stack(json.loads(Path(args.outputs).read_text(encoding="utf-8")))
    t = stack.o["tenants"][0]
    checks = Checks("first admin")
    state = {}

    def sign_in():
        token = stack.sign_in(t["tenantId"], "admin")["IdToken"]
        provider = f"cognito-idp.{stack.region}.amazonaws.com/{t['userPoolId']}"
        identity_pool = stack.identity_pool(t)
        identity_id, creds = stack.credentials({provider: token}, identity_pool)
        state.update(idToken=token, provider=provider, identityPoolId=identity_pool, identityId=identity_id,
                     creds=[creds.access_key, creds.secret_key, creds.token])

    def claim():
        from botocore.credentials import Credentials
        creds = Credentials(*state["creds"])
        # The recorded pending admin's first myProfile makes them ADMIN (a transaction of Put +
        # Update in my-profile's function: its real IAM role must allow exactly that).
        status, body = stack.graphql(creds, "{ me { identityId tenantId } myProfile { identityId role } }")
        assert status == 200 and not body.get("errors"), (status, body)
        assert body["data"]["me"]["tenantId"] == t["tenantId"], body
        assert body["data"]["myProfile"]["role"] == "ADMIN", body

    checks.run(f"{t['tenantId']}'s admin signs in (SRP) and gets Identity Pool credentials", sign_in)
    if state:
        checks.run(f"{t['tenantId']}'s admin is ADMIN on their first myProfile (the first-admin claim)", claim)
    Path(args.state).write_text(json.dumps(state), encoding="utf-8")
    os.chmod(args.state, 0o600)
    return checks.done()


def after_offboard(args):
    stack = Stack(json.loads(Path(args.outputs).read_text(encoding="utf-8")))
    state = json.loads(Path(args.state).read_text(encoding="utf-8"))
    checks = Checks("after offboard")
    if not state:
        print("FAIL no state from first-admin (the admin never signed in)")
        return 1
    pool_id = state["provider"].rsplit("/", 1)[1]

    def no_credentials():
        try:
            # The pool the admin signed in through (older state files: the top-level one).
            pool = state.get("identityPoolId") or stack.identity_pool()
            stack.identity.get_id(IdentityPoolId=pool, Logins={state["provider"]: state["idToken"]})
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NotAuthorizedException", e.response["Error"]
            return
        raise AssertionError("GetId gave an identity for an offboarded tenant's token")

    def old_credentials_refused():
        from botocore.credentials import Credentials
        creds = Credentials(*state["creds"])
        until = time.monotonic() + args.cache_ttl + 15
        last = None
        while True:
            status, body = stack.graphql(creds, "{ notes { items { id } } }")
            last = (status, body)
            kinds = [e.get("errorType") for e in (body or {}).get("errors") or []]
            if "Unauthorized" in kinds:
                return
            if time.monotonic() > until:
                raise AssertionError(f"still served after {args.cache_ttl + 15} s: {last}")
            time.sleep(2)

    def pool_gone():
        idp = boto3.client("cognito-idp", region_name=stack.region)
        try:
            idp.describe_user_pool(UserPoolId=pool_id)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ResourceNotFoundException", e.response["Error"]
            return
        raise AssertionError(f"User Pool {pool_id} still exists")

    checks.run("the offboarded tenant's id token gets no credentials (GetId: NotAuthorizedException)", no_credentials)
    checks.run(f"its credentials from before are refused (Unauthorized) within the cache TTL ({args.cache_ttl} s)", old_credentials_refused)
    checks.run(f"its User Pool {pool_id} is deleted", pool_gone)
    return checks.done()


def metrics(args):
    cw = boto3.client("cloudwatch", region_name=args.region)
    until = time.monotonic() + args.wait
    while True:
        found = cw.list_metrics(Namespace="NotesApi", MetricName="Invocations",
                                Dimensions=[{"Name": "tenant", "Value": args.tenant}])["Metrics"]
        if found:
            fields = sorted({d["Value"] for m in found for d in m["Dimensions"] if d["Name"] == "field"})
            print(f"ok   NotesApi/Invocations has tenant={args.tenant}: {len(found)} metric(s), fields {', '.join(fields)}")
            return 0
        if time.monotonic() > until:
            print(f"FAIL no NotesApi/Invocations metric with tenant={args.tenant} after {args.wait} s")
            return 1
        time.sleep(15)


def delete_users(args):
    """Idempotent: a user or pool that is gone already is fine; anything else is reported."""
    path = Path(args.ledger)
    if not path.exists():
        return 0
    left = 0
    seen = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        key = (e.get("userPoolId"), e.get("username"))
        if e.get("kind") != "user" or key in seen:
            continue
        seen.add(key)
        # A pool id starts with its region (eu-central-1_AbC…).
        idp = boto3.client("cognito-idp", region_name=key[0].split("_", 1)[0])
        try:
            idp.admin_delete_user(UserPoolId=key[0], Username=key[1])
            print(f"deleted user {key[1]} in {key[0]}", file=sys.stderr)
        except ClientError as err:
            if err.response["Error"]["Code"] not in ("UserNotFoundException", "ResourceNotFoundException"):
                left += 1
                print(f"could not delete user {key[1]} in {key[0]}: {err}", file=sys.stderr)
    return 1 if left else 0


# What the template retains (DeletionPolicy: Retain): found after the deletion by probing each
# such resource of the stack (CloudFormation's DELETE_SKIPPED events say the same on AWS).
RETAINABLE = {
    "AWS::DynamoDB::Table": (
        lambda s, p: s.client("dynamodb").describe_table(TableName=p),
        "aws dynamodb update-table --table-name {p} --no-deletion-protection-enabled && aws dynamodb delete-table --table-name {p}",
    ),
    "AWS::Cognito::UserPool": (
        lambda s, p: s.client("cognito-idp").describe_user_pool(UserPoolId=p),
        "aws cognito-idp update-user-pool --user-pool-id {p} --deletion-protection INACTIVE && aws cognito-idp delete-user-pool --user-pool-id {p}",
    ),
    "AWS::Cognito::IdentityPool": (
        lambda s, p: s.client("cognito-identity").describe_identity_pool(IdentityPoolId=p),
        "aws cognito-identity delete-identity-pool --identity-pool-id {p}",
    ),
}
GONE = ("ResourceNotFoundException", "UserPoolNotFoundException")


def exists(session, kind, physical):
    try:
        RETAINABLE[kind][0](session, physical)
        return True
    except ClientError as e:
        if e.response["Error"]["Code"] in GONE:
            return False
        raise


def remove_retained(session, kind, physical):
    if kind == "AWS::DynamoDB::Table":
        ddb = session.client("dynamodb")
        ddb.update_table(TableName=physical, DeletionProtectionEnabled=False)
        ddb.get_waiter("table_exists").wait(TableName=physical)
        ddb.delete_table(TableName=physical)
    elif kind == "AWS::Cognito::UserPool":
        idp = session.client("cognito-idp")
        idp.update_user_pool(UserPoolId=physical, DeletionProtection="INACTIVE")
        idp.delete_user_pool(UserPoolId=physical)
    else:
        session.client("cognito-identity").delete_identity_pool(IdentityPoolId=physical)


def delete_stack(args):
    session = boto3.session.Session(region_name=args.region) if args.region else boto3.session.Session()
    cfn = session.client("cloudformation")
    try:
        stack_id = cfn.describe_stacks(StackName=args.stack)["Stacks"][0]["StackId"]
    except ClientError as e:
        if "does not exist" in str(e):
            print(f"stack {args.stack}: already gone", file=sys.stderr)
            return 0
        raise
    retainable = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        for r in page["StackResourceSummaries"]:
            if r["ResourceType"] in RETAINABLE and r.get("PhysicalResourceId"):
                retainable.append((r["ResourceType"], r["PhysicalResourceId"]))
    cfn.delete_stack(StackName=stack_id)
    print(f"deleting stack {args.stack} (waiting)", file=sys.stderr)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig={"Delay": args.poll_seconds, "MaxAttempts": 3600 // args.poll_seconds})
    print(f"stack {args.stack}: deleted", file=sys.stderr)
    left = 0
    for kind, physical in retainable:
        if not exists(session, kind, physical):
            continue
        if args.retained == "delete":
            try:
                remove_retained(session, kind, physical)
                print(f"retained {kind} {physical}: deleted", file=sys.stderr)
                continue
            except ClientError as e:
                print(f"could not delete {kind} {physical}: {e}", file=sys.stderr)
        left += 1
        print(f"NOT REMOVED (the stack's Retain policy) {kind} {physical}: {RETAINABLE[kind][1].format(p=physical)}", file=sys.stderr)
    return 1 if left and args.retained == "delete" else 0

def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("stack-env")
    s.add_argument("stack")
    s.add_argument("--region")
    s = sub.add_parser("stack-status")
    s.add_argument("stack")
    s.add_argument("--region")
    s = sub.add_parser("users")
    s.add_argument("--base", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--ledger", required=True)
    s.add_argument("--realtime-url")
    s.add_argument("reports", nargs="+")
    s = sub.add_parser("credentials")
    s.add_argument("--outputs", required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("first-admin")
    s.add_argument("--outputs", required=True)
    s.add_argument("--state", required=True)
    s = sub.add_parser("after-offboard")
    s.add_argument("--outputs", required=True)
    s.add_argument("--state", required=True)
    s.add_argument("--cache-ttl", type=int, default=int(os.environ.get("TENANT_CACHE_TTL_SECONDS", "60")))
    s = sub.add_parser("metrics")
    s.add_argument("--tenant", required=True)
    s.add_argument("--region")
    s.add_argument("--wait", type=int, default=900)
    s = sub.add_parser("delete-users")
    s.add_argument("--ledger", required=True)
    s = sub.add_parser("delete-stack")
    s.add_argument("stack")
    s.add_argument("--region")
    s.add_argument("--retained", choices=["delete", "keep"], default="keep")
    s.add_argument("--poll-seconds", type=int, default=15)
    args = p.parse_args(argv)
    fn = {"stack-env": stack_env, "users": users, "credentials": credentials, "first-admin": first_admin,
          "after-offboard": after_offboard, "delete-users": delete_users,
          "delete-stack": delete_stack, "metrics": metrics, "stack-status": stack_status}[args.command]
    return fn(args) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
