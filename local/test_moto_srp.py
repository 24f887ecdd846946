#!/usr/bin/env python3
"""The launcher's SRP (local/moto_server.py) against pycognito's client, without a network.

    python3 -m unittest local/test_moto_srp.py      (scripts/test.sh runs it)

The math is checked by the other side of the protocol: pycognito's aws_srp.py derives the key
and signs the claim from the launcher's SALT/SRP_B, and the launcher must agree byte for byte
(over salts and B values with and without the top bit set, where the padding rules bite). Then
the whole exchange runs through moto in-process (moto's mock_aws, boto3 and pycognito
unchanged): the right password signs in, a wrong one is Cognito's HTTP 400
NotAuthorizedException "Incorrect username or password.", a temporary password still leads to
NEW_PASSWORD_REQUIRED, and moto's other flows are untouched.
"""
import base64
import os
import sys
import unittest

# The launcher is imported from local/; no __pycache__ left beside it in the checkout.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto import mock_aws  # noqa: E402
from pycognito import aws_srp  # noqa: E402
from pycognito.aws_srp import AWSSRP  # noqa: E402
from pycognito.exceptions import ForceChangePasswordException  # noqa: E402

import moto_server  # noqa: E402

moto_server.install()

REGION = "eu-central-1"
POOL_ID = f"{REGION}_0123456789abcdef0123456789abcdef"
USER_ID = "5f0c7c3e-1b7a-4d51-9d1e-3c2a0f6b9e42"
PASSWORD = "Correct-horse-1"


def client_for(password, pool_id=POOL_ID):
    # No AWS call is made by the math tests: any object stands in for the boto3 client.
    return AWSSRP(username="alice@acme.example", password=password, pool_id=pool_id, client_id="c", client=object())


def server_challenge(salt, b, password=PASSWORD, user_id=USER_ID):
    v = moto_server.verifier(POOL_ID, user_id, password, salt)
    return v, moto_server.server_b(v, b)


class SrpMath(unittest.TestCase):
    def test_constants_are_cognitos(self):
        self.assertEqual(moto_server.N, aws_srp.hex_to_long(aws_srp.N_HEX))
        self.assertEqual(moto_server.G, aws_srp.hex_to_long(aws_srp.G_HEX))
        srp = client_for(PASSWORD)
        self.assertEqual(moto_server.K, srp.val_k)

    def test_java_bytes_is_pycognitos_padding(self):
        for n in [1, 0x7F, 0x80, 0xFF, 0x100, 0x8000, 2**127, 2**128 - 1, moto_server.N]:
            self.assertEqual(moto_server.java_bytes(n).hex(), aws_srp.pad_hex(n).lower(), hex(n))

    def test_both_sides_derive_the_same_key(self):
        # Salts and b chosen so SALT and SRP_B start with low and high nibbles and odd lengths.
        salts = [0x01, 0x0F0E, 0x7FFF, 0x8000, 0xFFFF, 2**127, 2**128 - 1, int.from_bytes(os.urandom(16), "big") | 1]
        for salt in salts:
            srp = client_for(PASSWORD)
            b = int.from_bytes(os.urandom(32), "big") + 1
            v, big_b = server_challenge(salt, b)
            client_key = srp.get_password_authentication_key(USER_ID, PASSWORD, big_b, f"{salt:x}")
            server_key = moto_server.session_key(srp.large_a_value, big_b, v, b)
            self.assertEqual(server_key, bytes(client_key), f"salt {salt:x}")

    def test_pycognitos_claim_signature_verifies(self):
        srp = client_for(PASSWORD)
        salt, b = int.from_bytes(os.urandom(16), "big") | 1, int.from_bytes(os.urandom(32), "big") + 1
        v, big_b = server_challenge(salt, b)
        block = os.urandom(64)
        challenge = {"USERNAME": USER_ID, "USER_ID_FOR_SRP": USER_ID, "SALT": f"{salt:x}", "SRP_B": f"{big_b:x}",
                     "SECRET_BLOCK": base64.b64encode(block).decode()}
        answer = srp.process_challenge(challenge, {"USERNAME": "alice@acme.example"})
        key = moto_server.session_key(srp.large_a_value, big_b, v, b)
        expected = moto_server.claim_signature(key, POOL_ID, USER_ID, block, answer["TIMESTAMP"])
        self.assertEqual(answer["PASSWORD_CLAIM_SIGNATURE"], expected)
        # Another timestamp is another message.
        self.assertNotEqual(moto_server.claim_signature(key, POOL_ID, USER_ID, block, answer["TIMESTAMP"] + " "), expected)

    def test_a_wrong_password_derives_another_key(self):
        srp = client_for("wrong-password-1")
        salt, b = 0x1234, 0x5678
        v, big_b = server_challenge(salt, b)
        client_key = srp.get_password_authentication_key(USER_ID, "wrong-password-1", big_b, f"{salt:x}")
        self.assertNotEqual(moto_server.session_key(srp.large_a_value, big_b, v, b), bytes(client_key))


@mock_aws
class SrpThroughMoto(unittest.TestCase):
    """The launcher's wrapping of moto's backend, driven by boto3 and pycognito as on the wire."""

    def setUp(self):
        self.idp = boto3.client("cognito-idp", region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local")
        # As the template's pools: the e-mail address is the sign-in name.
        self.pool = self.idp.create_user_pool(PoolName="acme", UsernameAttributes=["email"])["UserPool"]["Id"]
        self.client_id = self.idp.create_user_pool_client(
            UserPoolId=self.pool, ClientName="web",
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
        )["UserPoolClient"]["ClientId"]
        self.user("alice@acme.example", PASSWORD, permanent=True)

    def user(self, email, password, permanent):
        self.idp.admin_create_user(UserPoolId=self.pool, Username=email, TemporaryPassword=password,
                                   UserAttributes=[{"Name": "email", "Value": email}], MessageAction="SUPPRESS")
        if permanent:
            self.idp.admin_set_user_password(UserPoolId=self.pool, Username=email, Password=password, Permanent=True)

    def srp(self, password, username="alice@acme.example"):
        return AWSSRP(username=username, password=password, pool_id=self.pool, client_id=self.client_id, client=self.idp)

    def assert_refused(self, err):
        self.assertEqual(err.response["Error"]["Code"], "NotAuthorizedException")
        self.assertEqual(err.response["Error"]["Message"], "Incorrect username or password.")
        self.assertEqual(err.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_the_right_password_signs_in(self):
        tokens = self.srp(PASSWORD).authenticate_user()["AuthenticationResult"]
        self.assertTrue(tokens["IdToken"] and tokens["AccessToken"] and tokens["RefreshToken"])

    def test_a_wrong_password_is_refused_as_cognito_does(self):
        raw = []
        self.idp.meta.events.register("after-call.cognito-idp.RespondToAuthChallenge",
                                      lambda http_response, **_: raw.append(http_response))
        with self.assertRaises(ClientError) as caught:
            self.srp("Wrong-password-1").authenticate_user()
        self.assert_refused(caught.exception)
        # Cognito's body, byte for byte.
        self.assertEqual(raw[0].status_code, 400)
        self.assertEqual(raw[0].content, b'{"__type":"NotAuthorizedException","message":"Incorrect username or password."}')

    def test_the_challenge_carries_real_srp_values(self):
        srp = self.srp(PASSWORD)
        params = self.idp.initiate_auth(AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params(),
                                        ClientId=self.client_id)["ChallengeParameters"]
        base64.b64decode(params["SECRET_BLOCK"], validate=True)
        self.assertGreater(int(params["SRP_B"], 16), 2**1024)
        # Amplify answers with USERNAME = USER_ID_FOR_SRP (the sub), pycognito with USERNAME.
        answer = srp.process_challenge(params, srp.get_auth_params())
        answer["USERNAME"] = params["USER_ID_FOR_SRP"]
        result = self.idp.respond_to_auth_challenge(ClientId=self.client_id, ChallengeName="PASSWORD_VERIFIER",
                                                    ChallengeResponses=answer)
        self.assertIn("IdToken", result["AuthenticationResult"])

    def test_an_answered_exchange_cannot_be_replayed(self):
        srp = self.srp(PASSWORD)
        params = self.idp.initiate_auth(AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params(),
                                        ClientId=self.client_id)["ChallengeParameters"]
        answer = srp.process_challenge(params, srp.get_auth_params())
        self.idp.respond_to_auth_challenge(ClientId=self.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer)
        with self.assertRaises(ClientError) as caught:
            self.idp.respond_to_auth_challenge(ClientId=self.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer)
        self.assert_refused(caught.exception)

    def test_an_answer_for_another_user_is_refused(self):
        self.user("dave@acme.example", "Daves-password-1", permanent=True)
        srp = self.srp(PASSWORD)
        params = self.idp.initiate_auth(AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params(),
                                        ClientId=self.client_id)["ChallengeParameters"]
        answer = srp.process_challenge(params, srp.get_auth_params())
        answer["USERNAME"] = "dave@acme.example"
        with self.assertRaises(ClientError) as caught:
            self.idp.respond_to_auth_challenge(ClientId=self.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer)
        self.assert_refused(caught.exception)

    def test_an_unknown_user_is_a_wrong_password_where_the_client_hides_users(self):
        # The template's app clients: PreventUserExistenceErrors ENABLED.
        hiding = self.idp.create_user_pool_client(UserPoolId=self.pool, ClientName="hiding", PreventUserExistenceErrors="ENABLED",
                                                  ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"])["UserPoolClient"]["ClientId"]
        nobody = AWSSRP(username="nobody@acme.example", password=PASSWORD, pool_id=self.pool, client_id=hiding, client=self.idp)
        with self.assertRaises(ClientError) as caught:
            nobody.authenticate_user()
        self.assert_refused(caught.exception)
        # Without it, Cognito (and moto) name the missing user.
        with self.assertRaises(ClientError) as caught:
            self.srp(PASSWORD, "nobody@acme.example").authenticate_user()
        self.assertEqual(caught.exception.response["Error"]["Code"], "UserNotFoundException")

    def test_a_temporary_password_still_asks_for_a_new_one(self):
        self.user("carol@acme.example", "Temporary-pass-1", permanent=False)
        with self.assertRaises(ForceChangePasswordException):
            self.srp("Temporary-pass-1", "carol@acme.example").authenticate_user()
        with self.assertRaises(ClientError) as caught:
            self.srp("Wrong-temporary-1", "carol@acme.example").authenticate_user()
        self.assert_refused(caught.exception)
        # pycognito's own flow answers NEW_PASSWORD_REQUIRED after SRP; then the new password signs in.
        self.srp("Temporary-pass-1", "carol@acme.example").set_new_password_challenge("Brand-new-pass-1")
        self.srp("Brand-new-pass-1", "carol@acme.example").authenticate_user()

    def test_the_other_flows_are_motos(self):
        result = self.idp.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=self.client_id,
                                        AuthParameters={"USERNAME": "alice@acme.example", "PASSWORD": PASSWORD})
        refresh = result["AuthenticationResult"]["RefreshToken"]
        again = self.idp.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=self.client_id,
                                       AuthParameters={"REFRESH_TOKEN": refresh})
        self.assertIn("IdToken", again["AuthenticationResult"])
        with self.assertRaises(ClientError) as caught:
            self.idp.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=self.client_id,
                                   AuthParameters={"USERNAME": "alice@acme.example", "PASSWORD": "nope"})
        self.assert_refused(caught.exception)
        admin = self.idp.admin_initiate_auth(UserPoolId=self.pool, ClientId=self.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                             AuthParameters={"USERNAME": "alice@acme.example", "PASSWORD": PASSWORD})
        self.assertIn("IdToken", admin["AuthenticationResult"])


if __name__ == "__main__":
    unittest.main()
