#!/usr/bin/env python3
"""moto's server, with Cognito's SRP done right: a wrong password is refused.

    python3 local/moto_server.py [moto_server's arguments, e.g. -H 127.0.0.1 -p 5000]

moto 5.x answers InitiateAuth(USER_SRP_AUTH) with random SALT/SRP_B and completes
RespondToAuthChallenge(PASSWORD_VERIFIER) without checking PASSWORD_CLAIM_SIGNATURE, so any
password signs in locally while Cognito refuses it. moto keeps each user's password, so this
launcher wraps those two backend methods and plays the server side of Cognito's SRP-6a:

- InitiateAuth USER_SRP_AUTH: moto's own checks run first (client, secret hash, user, enabled,
  confirmed) and open its session; then a 16-byte salt, the verifier v = g^x from the stored
  password with Cognito's x = H(salt | H(poolName | USER_ID_FOR_SRP | ":" | password)), a secret
  ephemeral b and B = k·v + g^b (N, g of Cognito's 3072-bit group, k = H(N | g)). SALT, SRP_B
  and a base64 SECRET_BLOCK replace moto's placeholders; b stays here, keyed by that block.
- RespondToAuthChallenge PASSWORD_VERIFIER: S = (A·v^u)^b, the HKDF key Cognito's clients
  derive, and HMAC-SHA256 over poolName | USER_ID_FOR_SRP | secret block | TIMESTAMP (as
  pycognito's aws_srp.py, Amplify JS and aws-cognito-srp compute it). A mismatch is Cognito's
  answer, HTTP 400 NotAuthorizedException "Incorrect username or password."; a match hands the
  challenge to moto with its own session, so moto issues its tokens or its next challenge
  (NEW_PASSWORD_REQUIRED for a temporary password, MFA) as before.
- An unknown user at a client with PreventUserExistenceErrors ENABLED (the template's clients)
  gets a simulated challenge and then the same refusal, as Cognito does; moto would answer
  UserNotFoundException.

Every other flow (admin flows, USER_PASSWORD_AUTH, refresh, the Identity Pool API) is moto's,
untouched. Numbers are hashed in Java's BigInteger.toByteArray() form (minimal, a 0 byte in front
when the top bit is set), which is what Cognito and its clients hash.
"""
import base64
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
import uuid

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D226"
    "1AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2
INFO = b"Caldera Derived Key"
INCORRECT = "Incorrect username or password."
# Cognito's sessions last 3 minutes; an exchange older than this is forgotten.
EXCHANGE_TTL_SECONDS = 5 * 60


def java_bytes(n):
    """BigInteger.toByteArray() of a non-negative number."""
    raw = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    return b"\x00" + raw if raw[0] & 0x80 else raw


def sha256(*parts):
    d = hashlib.sha256()
    for p in parts:
        d.update(p)
    return d.digest()


def h_int(*parts):
    return int.from_bytes(sha256(*parts), "big")


K = h_int(java_bytes(N), java_bytes(G))


def pool_name(pool_id):
    """The pool id without its region prefix (`eu-central-1_abc` -> `abc`), as Cognito hashes it."""
    return pool_id.split("_", 1)[1]


def compute_x(pool_id, user_id_for_srp, password, salt):
    identity = sha256(f"{pool_name(pool_id)}{user_id_for_srp}:{password}".encode("utf-8"))
    # The inner hash is hashed as 32 bytes: clients concatenate its 64 hex digits after the salt.
    return h_int(java_bytes(salt), identity)


def verifier(pool_id, user_id_for_srp, password, salt):
    return pow(G, compute_x(pool_id, user_id_for_srp, password, salt), N)


def server_b(v, b):
    return (K * v + pow(G, b, N)) % N


def session_key(a, big_b, v, b):
    """The 16-byte key both sides derive: HKDF(ikm = S, salt = u) with Cognito's info string."""
    u = h_int(java_bytes(a), java_bytes(big_b))
    if u == 0:
        return None
    s = pow(a * pow(v, u, N), b, N)
    prk = hmac.new(java_bytes(u), java_bytes(s), hashlib.sha256).digest()
    return hmac.new(prk, INFO + b"\x01", hashlib.sha256).digest()[:16]


def claim_signature(key, pool_id, user_id_for_srp, secret_block, timestamp):
    msg = pool_name(pool_id).encode("utf-8") + user_id_for_srp.encode("utf-8") + secret_block + timestamp.encode("utf-8")
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode("ascii")


class Exchanges:
    """The server's half of each open SRP exchange, keyed by the SECRET_BLOCK it handed out."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open = {}

    def put(self, block, exchange):
        now = time.monotonic()
        with self._lock:
            for stale in [k for k, e in self._open.items() if now - e["at"] > EXCHANGE_TTL_SECONDS]:
                del self._open[stale]
            self._open[block] = {**exchange, "at": now}

    def take(self, block):
        # One answer per exchange, as Cognito's session: a replayed block finds nothing.
        with self._lock:
            return self._open.pop(block, None)


EXCHANGES = Exchanges()


def install():
    """Wrap moto's cognito-idp backend so SRP checks the password proof."""
    from moto.cognitoidp import models
    from moto.cognitoidp.exceptions import NotAuthorizedError, UserNotFoundError

    class Refused(NotAuthorizedError):
        """Cognito's refusal byte for byte: compact JSON, its content type (moto's has spaces)."""

        def __init__(self):
            super().__init__(INCORRECT)
            self.description = json.dumps({"__type": "NotAuthorizedException", "message": INCORRECT}, separators=(",", ":"))
            self.content_type = "application/x-amz-json-1.1"

    backend = models.CognitoIdpBackend
    if getattr(backend, "_srp_checked", False):
        return
    moto_initiate = backend.initiate_auth
    moto_respond = backend.respond_to_auth_challenge

    def hides_unknown_users(self, client_id):
        for pool in self.user_pools.values():
            client = pool.clients.get(client_id)
            if client is not None:
                return client.extended_config.get("PreventUserExistenceErrors") == "ENABLED"
        return False

    def open_exchange(params, pool_id, user_id, password, a, moto_session):
        salt = int.from_bytes(secrets.token_bytes(16), "big") or 1
        b = secrets.randbelow(N - 1) + 1
        # No password (none set yet, or no such user) can only fail the proof.
        v = verifier(pool_id, user_id, password, salt) if password is not None else None
        big_b = server_b(v if v is not None else 0, b)
        block_bytes = secrets.token_bytes(64)
        block = base64.b64encode(block_bytes).decode("ascii")
        EXCHANGES.put(block, {
            "pool": pool_id, "user_id": user_id, "a": a, "b": b, "B": big_b, "v": v,
            "block": block_bytes, "moto_session": moto_session,
        })
        params.update({"SALT": f"{salt:x}", "SRP_B": f"{big_b:x}", "SECRET_BLOCK": block})

    def initiate_auth(self, client_id, auth_flow, auth_parameters):
        srp = auth_flow == "USER_SRP_AUTH"
        try:
            a = int((auth_parameters or {}).get("SRP_A") or "", 16) if srp else 0
        except ValueError:
            a = 0
        try:
            result = moto_initiate(self, client_id, auth_flow, auth_parameters)
        except UserNotFoundError:
            if not (srp and a % N != 0 and hides_unknown_users(self, client_id)):
                raise
            # PreventUserExistenceErrors ENABLED (the template's clients): Cognito answers an
            # unknown user with a simulated challenge, and the proof fails as a wrong password.
            params = {"USERNAME": auth_parameters.get("USERNAME"), "USER_ID_FOR_SRP": str(uuid.uuid4())}
            open_exchange(params, "-_-", params["USER_ID_FOR_SRP"], None, a, None)
            return {"ChallengeName": "PASSWORD_VERIFIER", "Session": str(uuid.uuid4()), "ChallengeParameters": params}
        if not srp or result.get("ChallengeName") != "PASSWORD_VERIFIER":
            return result
        if a % N == 0:
            # Cognito refuses an A that would make the shared secret predictable.
            raise Refused()
        moto_session = result["Session"]
        _, user_pool = self.sessions[moto_session]
        params = result["ChallengeParameters"]
        user = self.admin_get_user(user_pool.id, params["USERNAME"])
        open_exchange(params, user_pool.id, params["USER_ID_FOR_SRP"], user.password, a, moto_session)
        return result

    def respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses):
        if challenge_name != "PASSWORD_VERIFIER":
            return moto_respond(self, session, client_id, challenge_name, challenge_responses)
        responses = dict(challenge_responses or {})
        exchange = EXCHANGES.take(responses.get("PASSWORD_CLAIM_SECRET_BLOCK") or "")
        if exchange is None or exchange["v"] is None:
            self.sessions.pop((exchange or {}).get("moto_session"), None)
            raise Refused()
        _, user_pool = self.sessions.get(exchange["moto_session"], (None, None))
        if user_pool is None or client_id not in user_pool.clients:
            raise Refused()
        # The user named here must be the one the exchange was opened for (by name or SRP id).
        try:
            user = self.admin_get_user(user_pool.id, responses.get("USERNAME") or "")
        except UserNotFoundError:
            raise Refused() from None
        if user.id != exchange["user_id"] and user.username != exchange["user_id"]:
            raise Refused()
        key = session_key(exchange["a"], exchange["B"], exchange["v"], exchange["b"])
        expected = None if key is None else claim_signature(
            key, exchange["pool"], exchange["user_id"], exchange["block"], responses.get("TIMESTAMP") or "")
        given = responses.get("PASSWORD_CLAIM_SIGNATURE") or ""
        if expected is None or not hmac.compare_digest(expected.encode(), given.encode()):
            # The exchange is spent; moto's session goes too, as Cognito's does.
            self.sessions.pop(exchange["moto_session"], None)
            raise Refused()
        # moto finds its session through this field.
        responses["PASSWORD_CLAIM_SECRET_BLOCK"] = exchange["moto_session"]
        return moto_respond(self, exchange["moto_session"], client_id, challenge_name, responses)

    backend.initiate_auth = initiate_auth
    backend.respond_to_auth_challenge = respond_to_auth_challenge
    backend._srp_checked = True


def main(argv):
    install()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
