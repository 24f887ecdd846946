"""Peer for the benchmark: get-note as a typical Python 3.11 AppSync resolver (boto3), with a
minimal runtime loop against AWS_LAMBDA_RUNTIME_API (what the managed python3.11 runtime does
for you). Same table, same events, same rules as the Rust function."""
import http.client
import json
import os
import re
import time

import boto3

ddb = boto3.client("dynamodb")
TABLE = os.environ["TABLE_NAME"]
_tenants = {}
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _plain(item):
    return {k: (v["S"] if "S" in v else int(v["N"]) if "N" in v else None) for k, v in item.items()}


def tenant_of(provider):
    hit = _tenants.get(provider)
    if hit and hit[0] > time.time() - 60:
        return hit[1]
    p = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "REGISTRY"}, "sk": {"S": f"PROVIDER#{provider}"}}).get("Item")
    tenant = None
    if p:
        t = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "REGISTRY"}, "sk": {"S": f"TENANT#{p['tenantId']['S']}"}}).get("Item")
        tenant = _plain(t) if t else None
    _tenants[provider] = (time.time(), tenant)
    return tenant


def handler(event):
    ident = event.get("identity") or {}
    if ident.get("cognitoIdentityAuthType") != "authenticated":
        raise PermissionError("Unauthorized")
    provider = ident["cognitoIdentityAuthProvider"].split(",")[0].replace('"', "")
    tenant = tenant_of(provider)
    if not tenant or tenant["status"] != "ACTIVE":
        raise PermissionError("Unauthorized")
    note_id = event["arguments"]["id"]
    if not _ID.match(note_id):
        raise ValueError("ValidationError")
    item = ddb.get_item(
        TableName=TABLE,
        Key={"pk": {"S": f"TENANT#{tenant['tenantId']}"}, "sk": {"S": f"NOTE#{note_id}"}},
        ConsistentRead=True,
    ).get("Item")
    if not item:
        return None
    note = _plain(item)
    if note["visibility"] == "PRIVATE" and note["ownerId"] != ident["cognitoIdentityId"]:
        return None
    for k in ("pk", "sk", "gsi1pk", "gsi1sk"):
        note.pop(k, None)
    return note


def main():
    conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    while True:
        conn.request("GET", "/2018-06-01/runtime/invocation/next")
        res = conn.getresponse()
        body = res.read()
        request_id = res.getheader("lambda-runtime-aws-request-id")
        try:
            out = json.dumps(handler(json.loads(body)))
            path = f"/2018-06-01/runtime/invocation/{request_id}/response"
        except Exception as e:  # the runtime reports any failure as an invocation error
            out = json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)})
            path = f"/2018-06-01/runtime/invocation/{request_id}/error"
        conn.request("POST", path, body=out, headers={"content-type": "application/json"})
        conn.getresponse().read()


if __name__ == "__main__":
    main()
