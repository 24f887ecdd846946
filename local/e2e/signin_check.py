#!/usr/bin/env python3
"""The whole sign-in chain with unmodified boto3, given only an outputs.json.

    python3 local/e2e/signin_check.py [.local/outputs.json] [--tenants A,B]

alice signs in at acme's User Pool with SRP (pycognito), trades her id token for Identity Pool
credentials (boto3 cognito-identity: GetId, GetCredentialsForIdentity), creates a PRIVATE note
through the GraphQL API signed with botocore's own SigV4Auth (service appsync); bob signs in at
globex and can neither read that note by id nor see it in his list. A guest's credentials are
refused `notes`, and alice with a wrong password is refused as Cognito refuses it. Nothing
here knows it talks to a local stack: with a deployed stack's outputs.json (scripts/outputs.sh,
plus users that exist there) the same code runs against AWS. A tenant's users get credentials
from their tenant's Identity Pool (tenants[].identityPoolId, else the top-level identityPoolId);
a guest from the top-level one, the stack's first pool.
--tenants A,B plays acme's part with tenant A and globex's with B (scripts/aws-check.sh: its
throwaway tenants, with users alice and bob too).
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import json
import sys
import traceback
import urllib.error
import urllib.request

import boto3
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Stack:
    def __init__(self, outputs):
        self.o = outputs
        self.region = outputs["region"]
        # Sign-in and the Identity Pool's data plane take no AWS credentials (Cognito's own
        # operations are unauthenticated), as a browser or app client calls them.
        unsigned = Config(signature_version=UNSIGNED, retries={"max_attempts": 1})
        self.idp = boto3.client("cognito-idp", region_name=self.region, endpoint_url=outputs.get("cognitoIdpEndpoint"), config=unsigned)
        self.identity = boto3.client("cognito-identity", region_name=self.region, endpoint_url=outputs.get("cognitoIdentityEndpoint"), config=unsigned)

    def tenant(self, tenant_id):
        return next(t for t in self.o["tenants"] if t["tenantId"] == tenant_id)

    def identity_pool(self, tenant=None):
        """The Identity Pool of a tenant's users (its own, else the top-level one), or guests' (top-level)."""
        return (tenant or {}).get("identityPoolId") or self.o["identityPoolId"]

    def sign_in(self, tenant_id, name, password=None):
        """SRP sign-in at the tenant's pool (with the demo password unless told); the pool's tokens."""
        t = self.tenant(tenant_id)
        user = next(u for u in t["users"] if u["name"] == name)
        srp = AWSSRP(username=user["username"], password=password or user["password"], pool_id=t["userPoolId"],
                     client_id=t["userPoolClientId"], client=self.idp)
        return srp.authenticate_user()["AuthenticationResult"]

    def credentials(self, logins=None, identity_pool=None):
        """Credentials for `logins` ({provider: id token}) from `identity_pool` (the tenant's), or a
        guest's from the top-level pool."""
        kwargs = {"Logins": logins} if logins else {}
        pool = identity_pool or self.identity_pool()
        identity_id = self.identity.get_id(IdentityPoolId=pool, **kwargs)["IdentityId"]
        c = self.identity.get_credentials_for_identity(IdentityId=identity_id, **kwargs)["Credentials"]
        return identity_id, Credentials(c["AccessKeyId"], c["SecretKey"], c["SessionToken"])

    def user_credentials(self, tenant_id, name):
        t = self.tenant(tenant_id)
        token = self.sign_in(tenant_id, name)["IdToken"]
        return self.credentials({f"cognito-idp.{self.region}.amazonaws.com/{t['userPoolId']}": token}, self.identity_pool(t))

    def graphql(self, creds, query, variables=None):
        """A GraphQL POST signed by botocore's SigV4Auth, as any boto-based client signs it."""
        body = json.dumps({"query": query, "variables": variables or {}})
        req = AWSRequest(method="POST", url=self.o["graphqlUrl"], data=body, headers={"content-type": "application/json"})
        SigV4Auth(creds, "appsync", self.region).add_auth(req)
        http = urllib.request.Request(self.o["graphqlUrl"], data=body.encode(), headers=dict(req.headers.items()), method="POST")
        try:
            with urllib.request.urlopen(http, timeout=300) as res:
                return res.status, json.loads(res.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def main(path, acme="acme", globex="globex"):
    stack = Stack(load(path))
    state = {}
    results = []

    def check(title):
        def run(fn):
            try:
                fn()
                results.append(True)
                print(f"ok   {title}")
            except Exception:  # a failed check is reported, and the others still run
                results.append(False)
                print(f"FAIL {title}\n{traceback.format_exc()}")
            return fn
        return run

    @check("alice signs in at acme (SRP) and gets Identity Pool credentials")
    def _():
        identity_id, creds = stack.user_credentials(acme, "alice")
        assert identity_id.startswith(f"{stack.region}:"), identity_id
        assert creds.access_key.startswith("ASIA"), creds.access_key
        state["alice"] = (identity_id, creds)

    @check("alice's SigV4-signed request is served as her, in acme")
    def _():
        identity_id, creds = state["alice"]
        status, body = stack.graphql(creds, "{ me { identityId tenantId } }")
        assert status == 200, (status, body)
        assert body["data"]["me"] == {"identityId": identity_id, "tenantId": acme}, body

    @check("alice creates a PRIVATE note")
    def _():
        _, creds = state["alice"]
        status, body = stack.graphql(creds, 'mutation { createNote(input: {title: "signin_check: acme only", visibility: PRIVATE}) { id visibility } }')
        assert status == 200 and not body.get("errors"), (status, body)
        state["note"] = body["data"]["createNote"]["id"]

    @check("alice reads her note back")
    def _():
        _, creds = state["alice"]
        status, body = stack.graphql(creds, "query ($id: ID!) { note(id: $id) { id title } }", {"id": state["note"]})
        assert status == 200 and body["data"]["note"]["id"] == state["note"], (status, body)

    @check("bob (globex) signs in and cannot read alice's note by id")
    def _():
        identity_id, creds = stack.user_credentials(globex, "bob")
        assert identity_id != state["alice"][0]
        state["bob"] = creds
        status, body = stack.graphql(creds, "query ($id: ID!) { note(id: $id) { id title } }", {"id": state["note"]})
        assert status == 200 and body["data"]["note"] is None and not body.get("errors"), (status, body)

    @check("bob's notes do not include alice's")
    def _():
        status, body = stack.graphql(state["bob"], "{ notes(limit: 100) { items { id } } }")
        assert status == 200 and not body.get("errors"), (status, body)
        assert state["note"] not in [n["id"] for n in body["data"]["notes"]["items"]], body

    @check("a guest is refused notes (the guest role)")
    def _():
        _, creds = stack.credentials()
        status, body = stack.graphql(creds, "{ notes { items { id } } }")
        assert status == 200, (status, body)
        assert [e["errorType"] for e in body["errors"]] == ["Unauthorized"], body
        assert body["errors"][0]["message"] == "Not Authorized to access notes on type Query", body

    @check("alice with a wrong password is refused (NotAuthorizedException, as Cognito)")
    def _():
        user = next(u for u in stack.tenant(acme)["users"] if u["name"] == "alice")
        try:
            stack.sign_in(acme, "alice", password=user["password"] + "-not-it")
        except ClientError as e:
            err = e.response["Error"]
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
            assert (err["Code"], err["Message"]) == ("NotAuthorizedException", "Incorrect username or password."), err
        else:
            raise AssertionError("signed in with a wrong password")

    passed = sum(results)
    failed = len(results) - passed
    print(f"signin: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if any(a in ("-h", "--help") for a in args):
        print(__doc__)
        sys.exit(0)
    tenants = ["acme", "globex"]
    if "--tenants" in args:
        at = args.index("--tenants")
        tenants = args[at + 1].split(",")
        del args[at:at + 2]
    sys.exit(main(args[0] if args else ".local/outputs.json", *tenants))
