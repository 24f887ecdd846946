#!/usr/bin/env python3
"""Writes events/<function>/<caller>.json: realistic AppSync Direct Lambda events (AWS_IAM,
Cognito Identity Pool) for every function and four callers. Re-run after changing a field.

The identity objects follow what AppSync sends (see README "Identity -> tenant"): the provider
string is a comma-separated list whose entries are wrapped in literal double quotes.
"""
import json
import pathlib

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

FUNCTIONS = {
    "me": ("Query", "me", {}, ["identityId", "authenticated", "tenantId", "provider", "userSub"]),
    "get-note": ("Query", "note", {"id": NOTE_ID}, NOTE_FIELDS),
    "list-notes": ("Query", "notes", {"limit": 10}, ["items"] + [f"items/{f}" for f in NOTE_FIELDS] + ["nextToken"]),
    "public-notes": ("Query", "publicNotes", {"tenantId": "acme", "limit": 10},
                     ["items"] + [f"items/{f}" for f in NOTE_FIELDS] + ["nextToken"]),
    "create-note": ("Mutation", "createNote",
                    {"input": {"title": "Quarterly plan", "body": "Ship the multi-tenant notes API.",
                               "visibility": "PRIVATE", "clientToken": "c0ffee00-quarterly-plan"}}, NOTE_FIELDS),
    "update-note": ("Mutation", "updateNote",
                    {"input": {"id": NOTE_ID, "title": "Quarterly plan (v2)", "visibility": "TENANT",
                               "expectedVersion": 1}}, NOTE_FIELDS),
    "delete-note": ("Mutation", "deleteNote", {"id": NOTE_ID, "expectedVersion": 2}, NOTE_FIELDS),
    "my-profile": ("Query", "myProfile", {}, PROFILE_FIELDS),
    "tenant": ("Query", "tenant", {}, ["id", "name", "memberCount"]),
    "update-my-profile": ("Mutation", "updateMyProfile", {"input": {"displayName": "Alice A."}}, PROFILE_FIELDS),
    "set-role": ("Mutation", "setRole",
                 {"identityId": f"{REGION}:ca201000-0000-4000-8000-00000000000c", "role": "ADMIN"}, PROFILE_FIELDS),
    # Nested, batched field: `source` is the parent Note (here one of tenant A's).
    "note-author": ("Note", "author", {}, PROFILE_FIELDS),
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


def selection_graphql(fields):
    top = [f for f in fields if "/" not in f]
    out = []
    for f in top:
        nested = [g.split("/", 1)[1] for g in fields if g.startswith(f + "/")]
        out.append(f"{f} {{ {' '.join(nested)} }}" if nested else f)
    return "{ " + " ".join(out) + " }"


def event(caller, type_name, field, args, selection, source=None):
    return {
        "arguments": args,
        "identity": identity(caller),
        "source": source,
        "request": {
            "headers": {
                "host": "abcdefghijklmnopqrstuvwxyz.appsync-api.eu-central-1.amazonaws.com",
                "content-type": "application/json",
                "x-amzn-requestid": "6e1f3c2a-9b8d-4c7e-a5f4-3d2c1b0a9e8f",
                "x-amz-user-agent": "aws-amplify/6.0.0 api/1 framework/2",
            },
            "domainName": None,
        },
        "info": {
            "parentTypeName": type_name,
            "fieldName": field,
            "variables": {},
            "selectionSetList": selection,
            "selectionSetGraphQL": selection_graphql(selection),
        },
        "prev": None,
        "stash": {},
    }


def main():
    for fn, (type_name, field, args, selection) in FUNCTIONS.items():
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
    main()
