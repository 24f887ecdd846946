#!/usr/bin/env python3
"""Writes events/<function>/<caller>.json: realistic AppSync Direct Lambda events (AWS_IAM,
Cognito Identity Pool) for every function and four callers. Re-run after changing a field.

The identity objects follow what AppSync sends (see docs/design/identity.md): the provider
string is a comma-separated list whose entries are wrapped in literal double quotes.
"""
import argparse
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
REGION = "eu-central-1"
IDENTITY_POOL = f"{REGION}:1cb638b4-0f0c-4078-9fe0-4dbd3582783d"
ACCOUNT = "123456789012"

POOLS = {
    "tenant-a": f"{REGION}_AcmePool1",   # registered as tenant "acme"
    "tenant-b": f"{REGION}_GlobexPl1",   # registered as tenant "globex"
    "unknown-provider": f"{REGION}_NoTenant9",  # registered nowhere
}
USERS = {
    "tenant-a": ("a11ce000-0000-4000-8000-00000000000a", "2f1c5a3e-8a3b-4b9e-9d2a-5f0c1e7d9b11"),
    "tenant-b": ("b0b00000-0000-4000-8000-00000000000b", "7d4e2c1a-3b5f-4a6d-8e9f-0a1b2c3d4e5f"),
    "unknown-provider": ("0000dead-0000-4000-8000-0000000000ff", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
    "guest": ("9e570000-0000-4000-8000-000000000009", None),
}


def identity(caller):
    ident, sub = USERS[caller]
    base = {
        "accountId": ACCOUNT,
        "cognitoIdentityId": f"{REGION}:{ident}",
        "cognitoIdentityPoolId": IDENTITY_POOL,
        "sourceIp": ["203.0.113.7"],
    }
    if caller == "guest":
        return base | {
            "cognitoIdentityAuthType": "unauthenticated",
            "cognitoIdentityAuthProvider": None,
            "userArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/NotesGuestRole/CognitoIdentityCredentials",
            "username": "AROAGUESTROLEID00001:CognitoIdentityCredentials",
        }
    key = f"cognito-idp.{REGION}.amazonaws.com/{POOLS[caller]}"
    return base | {
        "cognitoIdentityAuthType": "authenticated",
        "cognitoIdentityAuthProvider": f'"{key}","{key}:CognitoSignIn:{sub}"',
        "userArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/NotesUserRole/CognitoIdentityCredentials",
        "username": "AROAUSERROLEID000001:CognitoIdentityCredentials",
    }


PROFILE_FIELDS = ["identityId", "displayName", "role", "updatedAt"]
NOTE_FIELDS = ["id", "tenantId", "ownerId", "title", "body", "visibility", "version", "createdAt", "updatedAt"]
NOTE_ID = "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"

# Sample arguments and selection per function. Which functions exist and which field each
# resolves comes from the one registry, `resolvers!` in shared/src/api.rs (read below).
SAMPLES = {
    "me": ({}, ["identityId", "authenticated", "tenantId", "provider", "userSub"]),
    "get-note": ({"id": NOTE_ID}, NOTE_FIELDS),
    "list-notes": ({"limit": 10}, ["items"] + [f"items/{f}" for f in NOTE_FIELDS] + ["nextToken"]),
    "public-notes": ({"tenantId": "acme", "limit": 10},
                     ["items"] + [f"items/{f}" for f in NOTE_FIELDS] + ["nextToken"]),
    "create-note": ({"input": {"title": "Quarterly plan", "body": "Ship the multi-tenant notes API.",
                               "visibility": "PRIVATE", "clientToken": "c0ffee00-quarterly-plan"}}, NOTE_FIELDS),
    "update-note": ({"input": {"id": NOTE_ID, "title": "Quarterly plan (v2)", "visibility": "TENANT",
                               "expectedVersion": 1}}, NOTE_FIELDS),
    "delete-note": ({"id": NOTE_ID, "expectedVersion": 2}, NOTE_FIELDS),
    "my-profile": ({}, PROFILE_FIELDS),
    "tenant": ({}, ["id", "name", "memberCount"]),
    "update-my-profile": ({"input": {"displayName": "Alice A."}}, PROFILE_FIELDS),
    "set-role": ({"identityId": f"{REGION}:ca201000-0000-4000-8000-00000000000c", "role": "ADMIN"}, PROFILE_FIELDS),
    # Nested, batched field: `source` is the parent Note (here one of tenant A's).
    "note-author": ({}, PROFILE_FIELDS),
    # Subscriptions: the function runs once when a client subscribes and answers its filters.
    "on-note-changed": ({}, ["kind", "noteId", "tenantId", "visibility", "revoked", "note"]
                        + [f"note/{f}" for f in NOTE_FIELDS]),
    "on-public-note-changed": ({"tenantId": "acme"}, ["kind", "noteId", "note"]
                               + [f"note/{f}" for f in NOTE_FIELDS]),
}

# The parent notes a Note.author event carries as `source`: all of tenant A, owned by its user.
def acme_note(i):
    return {
        "id": f"0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a{i:02x}",
        "tenantId": "acme",
        "ownerId": f"{REGION}:{USERS['tenant-a'][0]}",
        "title": f"Note {i}",
        "body": None,
        "visibility": "TENANT",
        "version": 1,
        "createdAt": "2026-11-24T18:00:00.000Z",
        "updatedAt": "2026-11-24T18:00:00.000Z",
    }


def registry():
    """{function: (type, field)} from shared/src/api.rs: the `resolvers!` table names each
    function's resolver, and each resolver's `const FIELD` names its field."""
    api = (ROOT / "shared" / "src" / "api.rs").read_text()
    fields = dict(
        (m[0], (m[1], m[2]))
        for m in re.findall(r'impl (?:Batch)?Resolver for (\w+) \{\s*const FIELD: Field = Field::new\("(\w+)", "(\w+)"\)', api)
    )
    table = api[api.rindex("resolvers! {"):]
    entries = re.findall(r'(Single|Batch) "([a-z0-9-]+)" => (\w+),', table)
    if not entries:
        raise SystemExit("gen-events: no resolvers! table found in shared/src/api.rs")
    return {function: fields[resolver] for _, function, resolver in entries}


def selection_graphql(fields):
    top = [f for f in fields if "/" not in f]
    out = []
    for f in top:
        nested = [g.split("/", 1)[1] for g in fields if g.startswith(f + "/")]
        out.append(f"{f} {{ {' '.join(nested)} }}" if nested else f)
    return "{ " + " ".join(out) + " }"


def event(caller, type_name, field, args, selection, source=None):
    # What resolvers/invoke.js sends the function: the Direct Lambda event without `request`,
    # `prev` and `stash` (AppSync would log them with failed fields; the functions never read them).
    return {
        "arguments": args,
        "identity": identity(caller),
        "source": source,
        "info": {
            "parentTypeName": type_name,
            "fieldName": field,
            "variables": {},
            "selectionSetList": selection,
            "selectionSetGraphQL": selection_graphql(selection),
        },
    }


def main():
    functions = registry()
    missing = sorted(set(functions) - set(SAMPLES))
    stale = sorted(set(SAMPLES) - set(functions))
    if missing or stale:
        raise SystemExit(f"gen-events: add SAMPLES for {missing}; remove SAMPLES for {stale}")
    for fn, (type_name, field) in functions.items():
        args, selection = SAMPLES[fn]
        folder = ROOT / "events" / fn
        folder.mkdir(parents=True, exist_ok=True)
        source = acme_note(1) if type_name == "Note" else None
        for caller in ["tenant-a", "tenant-b", "guest", "unknown-provider"]:
            path = folder / f"{caller}.json"
            path.write_text(json.dumps(event(caller, type_name, field, args, selection, source), indent=2) + "\n")
        if type_name == "Note":
            # What AppSync sends with batching on: one array, one event per parent note.
            batch = [event("tenant-a", type_name, field, args, selection, acme_note(i)) for i in range(3)]
            (folder / "batch-tenant-a.json").write_text(json.dumps(batch, indent=2) + "\n")


if __name__ == "__main__":
    argparse.ArgumentParser(prog="scripts/gen-events.py", description=__doc__.split("\n\n")[0]).parse_args()
    main()
