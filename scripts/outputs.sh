#!/usr/bin/env bash
# Writes .local/outputs.json from a deployed stack's CloudFormation outputs, in the shape
# scripts/local.sh writes for the local stack, so a client switches between them by file:
#   scripts/outputs.sh STACK_NAME [--region R] [--out FILE] [--tenant X=ID ...]
# Uses boto3 with the standard AWS credentials (AWS_PROFILE, ...); the region is --region, else
# AWS_DEFAULT_REGION / the profile's, else AWS_REGION.
#
# Stack Outputs read:
#   Region, GraphQLUrl, IdentityPoolId, AllowGuests ("true"/"false")
#   Tenant<X>UserPoolId, Tenant<X>UserPoolWebClientId, Tenant<X>TenantId   for each tenant pool X
#   Tenant<X>IdentityPoolId   (optional) the Identity Pool tenant X's users get credentials from
# A pool without a Tenant<X>TenantId output needs `--tenant <X>=<tenant id>` (the id it was
# registered under with tenantctl). Tenants live in several Identity Pools: each tenant entry gets
# its own identityPoolId (Tenant<X>IdentityPoolId, else the stack's IdentityPoolId); the top-level
# identityPoolId is the stack's first pool, the one guests use. The file has no endpoints (clients
# use AWS's) and no users (their passwords are not the stack's to know).
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0" >&2; exit 2; fi
STACK="$1"; shift
REGION_ARG=""
OUT="$ROOT/.local/outputs.json"
TENANTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --region) REGION_ARG="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --tenant) TENANTS+=("$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$(dirname "$OUT")"

python3 - "$STACK" "$REGION_ARG" "$OUT" "${TENANTS[@]}" <<'PY'
import json, os, re, sys
import boto3

stack, region, out, *tenant_args = sys.argv[1:]
overrides = dict(arg.split("=", 1) for arg in tenant_args)
region = region or (None if boto3.session.Session().region_name else os.environ.get("AWS_REGION"))
cfn = boto3.client("cloudformation", **({"region_name": region} if region else {}))
described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}

def need(key):
    if key not in outputs:
        sys.exit(f"stack {stack} has no output {key}")
    return outputs[key]

tenants = []
for key in sorted(outputs):
    m = re.fullmatch(r"Tenant(.+)UserPoolId", key)
    if not m:
        continue
    x = m.group(1)
    tenant_id = outputs.get(f"Tenant{x}TenantId") or overrides.get(x)
    if not tenant_id:
        sys.exit(f"no tenant id for pool {x}: add the stack output Tenant{x}TenantId or pass --tenant {x}=<id>")
    tenants.append({
        "tenantId": tenant_id,
        "userPoolId": outputs[key],
        "userPoolClientId": need(f"Tenant{x}UserPoolWebClientId"),
        "identityPoolId": outputs.get(f"Tenant{x}IdentityPoolId") or need("IdentityPoolId"),
    })

doc = {
    "region": need("Region"),
    "graphqlUrl": need("GraphQLUrl"),
    "identityPoolId": need("IdentityPoolId"),
    "allowGuests": need("AllowGuests").lower() == "true",
    "tenants": tenants,
}
tmp = f"{out}.tmp"
with open(tmp, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(tmp, out)
print(f"wrote {out}: {len(tenants)} tenant(s) of stack {stack}", file=sys.stderr)
PY
