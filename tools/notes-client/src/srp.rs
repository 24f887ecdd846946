//! Cognito's SRP exchange (USER_SRP_AUTH, then the PASSWORD_VERIFIER challenge), computed by the
//! `aws-cognito-srp` crate; this module turns challenge parameters into the challenge responses.

use std::collections::HashMap;

use aws_cognito_srp::{SrpClient, User, VerificationParameters};

use crate::error::{Error, Result};

/// One sign-in attempt: holds the client's secret ephemeral `a` between the two calls.
pub struct SrpSignIn {
    client: SrpClient<User>,
    /// `SRP_A` for InitiateAuth.
    pub srp_a: String,
}

impl std::fmt::Debug for SrpSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrpSignIn").finish_non_exhaustive()
    }
}

impl SrpSignIn {
    pub fn start(
        user_pool_id: &str,
        user_pool_client_id: &str,
        username: &str,
        password: &str,
    ) -> Self {
        let client = SrpClient::new(
            User::new(user_pool_id, username, password),
            user_pool_client_id,
            None,
        );
        let srp_a = client.get_auth_parameters().a;
        SrpSignIn { client, srp_a }
    }

    /// The `ChallengeResponses` for RespondToAuthChallenge(PASSWORD_VERIFIER), from the
    /// challenge parameters InitiateAuth returned.
    pub fn respond(&self, challenge: &HashMap<String, String>) -> Result<HashMap<String, String>> {
        let get = |name: &str| {
            challenge
                .get(name)
                .map(String::as_str)
                .ok_or_else(|| Error::Srp(format!("the challenge has no {name}")))
        };
        let user_id = get("USER_ID_FOR_SRP")?;
        let secret_block = get("SECRET_BLOCK")?;
        let VerificationParameters {
            password_claim_signature,
            timestamp,
            ..
        } = self
            .client
            .verify(
                &lenient_base64(secret_block),
                user_id,
                get("SALT")?,
                get("SRP_B")?,
            )
            .map_err(|e| Error::Srp(e.to_string()))?;
        Ok(HashMap::from([
            // Cognito wants the user id it named for SRP here (what Amplify sends too).
            ("USERNAME".to_string(), user_id.to_string()),
            // The block exactly as received: it is also the server's handle on the exchange.
            (
                "PASSWORD_CLAIM_SECRET_BLOCK".to_string(),
                secret_block.to_string(),
            ),
            (
                "PASSWORD_CLAIM_SIGNATURE".to_string(),
                password_claim_signature,
            ),
            ("TIMESTAMP".to_string(), timestamp),
        ]))
    }
}

/// `SECRET_BLOCK` as strict standard base64. Cognito's blocks already are and pass unchanged;
/// moto's is a UUID (`8c1e…-…`), which Python's and Amplify's decoders read by skipping the
/// characters outside the alphabet. Do the same, and pad, so the signature can be computed.
fn lenient_base64(block: &str) -> String {
    let mut kept: String = block
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/'))
        .collect();
    while !kept.len().is_multiple_of(4) {
        kept.push('=');
    }
    kept
}

#[cfg(test)]
mod tests {
    //! The crate's client against a Cognito-style SRP-6a server written from the equations
    //! (server side: `B = k·v + g^b`, `S = (A·v^u)^b`), so the client's math is checked by the
    //! other side of the protocol rather than by a copy of itself. moto cannot do this: it does
    //! not check the signature.

    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use hmac::{Hmac, Mac};
    use num_bigint::BigUint;
    use sha2::{Digest, Sha256};

    const N_HEX: &str = concat!(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879",
        "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B",
        "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836",
        "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804",
        "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6",
        "955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
        "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D226",
        "1AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
        "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
    );

    /// Java's `BigInteger.toByteArray()` of a non-negative number: minimal, with a 0 byte in
    /// front when the top bit is set. Cognito hashes numbers in this form.
    fn java_bytes(n: &BigUint) -> Vec<u8> {
        let bytes = n.to_bytes_be();
        if bytes[0] >= 0x80 {
            [vec![0], bytes].concat()
        } else {
            bytes
        }
    }

    fn sha256(parts: &[&[u8]]) -> Vec<u8> {
        let mut d = Sha256::new();
        for p in parts {
            d.update(p);
        }
        d.finalize().to_vec()
    }

    fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().to_vec()
    }

    struct Server {
        n: BigUint,
        g: BigUint,
        pool_name: &'static str,
        user_id: &'static str,
        salt: BigUint,
        v: BigUint,
    }

    impl Server {
        fn new(password: &str) -> Self {
            let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap();
            let g = BigUint::from(2u8);
            let pool_name = "Abc123";
            let user_id = "6f1c2a3b-0000-4000-8000-000000000001";
            let salt = BigUint::parse_bytes(b"8a3f5e1d2c4b6a7980f1e2d3c4b5a697", 16).unwrap();
            let inner = sha256(&[
                pool_name.as_bytes(),
                user_id.as_bytes(),
                b":",
                password.as_bytes(),
            ]);
            let x = BigUint::from_bytes_be(&sha256(&[&java_bytes(&salt), &inner]));
            let v = g.modpow(&x, &n);
            Server {
                n,
                g,
                pool_name,
                user_id,
                salt,
                v,
            }
        }

        /// The challenge for `srp_a` with the server's secret `b`, and the expected signature
        /// check for a response.
        fn challenge(&self, b: &BigUint, secret_block: &str) -> (HashMap<String, String>, BigUint) {
            let k = BigUint::from_bytes_be(&sha256(&[&java_bytes(&self.n), &java_bytes(&self.g)]));
            let big_b = (&k * &self.v + self.g.modpow(b, &self.n)) % &self.n;
            let params = HashMap::from([
                ("SALT".to_string(), self.salt.to_str_radix(16)),
                ("SRP_B".to_string(), big_b.to_str_radix(16)),
                ("USER_ID_FOR_SRP".to_string(), self.user_id.to_string()),
                ("USERNAME".to_string(), "alice@acme.example".to_string()),
                ("SECRET_BLOCK".to_string(), secret_block.to_string()),
            ]);
            (params, big_b)
        }

        fn expected_signature(
            &self,
            srp_a: &str,
            big_b: &BigUint,
            b: &BigUint,
            secret_block: &[u8],
            timestamp: &str,
        ) -> String {
            let a_pub = BigUint::parse_bytes(srp_a.as_bytes(), 16).unwrap();
            assert!(&a_pub % &self.n != BigUint::from(0u8));
            let u = BigUint::from_bytes_be(&sha256(&[&java_bytes(&a_pub), &java_bytes(big_b)]));
            let s = (a_pub * self.v.modpow(&u, &self.n)).modpow(b, &self.n);
            let prk = hmac(&java_bytes(&u), &[&java_bytes(&s)]);
            let key = &hmac(&prk, &[b"Caldera Derived Key", &[1]])[..16];
            STANDARD.encode(hmac(
                key,
                &[
                    self.pool_name.as_bytes(),
                    self.user_id.as_bytes(),
                    secret_block,
                    timestamp.as_bytes(),
                ],
            ))
        }
    }

    #[test]
    fn the_password_claim_verifies_at_an_srp_server() {
        let server = Server::new("Correct-Horse-1");
        let block_bytes: Vec<u8> = (0u8..=200).collect();
        let block = STANDARD.encode(&block_bytes);
        for i in 0u8..8 {
            // Different server secrets, so B sometimes has its top bit set and sometimes not.
            let b = BigUint::from_bytes_be(&sha256(&[b"server secret", &[i]]));
            let (challenge, big_b) = server.challenge(&b, &block);
            let srp = SrpSignIn::start(
                "eu-central-1_Abc123",
                "client",
                "alice@acme.example",
                "Correct-Horse-1",
            );
            let answer = srp.respond(&challenge).unwrap();
            assert_eq!(answer["USERNAME"], server.user_id);
            assert_eq!(answer["PASSWORD_CLAIM_SECRET_BLOCK"], block);
            let want = server.expected_signature(
                &srp.srp_a,
                &big_b,
                &b,
                &block_bytes,
                &answer["TIMESTAMP"],
            );
            assert_eq!(answer["PASSWORD_CLAIM_SIGNATURE"], want, "round {i}");
        }
    }

    #[test]
    fn a_wrong_password_gives_a_claim_the_server_rejects() {
        let server = Server::new("Correct-Horse-1");
        let block = STANDARD.encode(b"block");
        let b = BigUint::from_bytes_be(&sha256(&[b"server secret"]));
        let (challenge, big_b) = server.challenge(&b, &block);
        let srp = SrpSignIn::start(
            "eu-central-1_Abc123",
            "client",
            "alice@acme.example",
            "wrong",
        );
        let answer = srp.respond(&challenge).unwrap();
        let want =
            server.expected_signature(&srp.srp_a, &big_b, &b, b"block", &answer["TIMESTAMP"]);
        assert_ne!(answer["PASSWORD_CLAIM_SIGNATURE"], want);
    }

    #[test]
    fn timestamp_is_cognitos_format_without_a_leading_zero_day() {
        let server = Server::new("pw");
        let (challenge, _) = server.challenge(&BigUint::from(7u8), &STANDARD.encode(b"x"));
        let srp = SrpSignIn::start("eu-central-1_Abc123", "client", "u", "pw");
        let answer = srp.respond(&challenge).unwrap();
        // e.g. "Tue Mar 3 09:05:01 UTC 2026"
        let parts: Vec<&str> = answer["TIMESTAMP"].split(' ').collect();
        assert_eq!(parts.len(), 6, "{parts:?}");
        assert_eq!(parts[4], "UTC");
        assert!(
            !parts[2].starts_with('0') && parts[2].parse::<u8>().is_ok(),
            "{parts:?}"
        );
        assert_eq!(parts[3].len(), 8);
    }

    #[test]
    fn a_uuid_secret_block_as_moto_sends_is_accepted_and_echoed() {
        let server = Server::new("pw");
        let uuid = "8c1e4f2a-5b6d-4e7f-9a0b-1c2d3e4f5a6b";
        let (challenge, _) = server.challenge(&BigUint::from(7u8), uuid);
        let srp = SrpSignIn::start("eu-central-1_Abc123", "client", "u", "pw");
        let answer = srp.respond(&challenge).unwrap();
        assert_eq!(answer["PASSWORD_CLAIM_SECRET_BLOCK"], uuid);
    }

    #[test]
    fn lenient_base64_keeps_valid_blocks_and_pads_others() {
        assert_eq!(lenient_base64("QUJD"), "QUJD");
        assert_eq!(lenient_base64("QUI="), "QUI=");
        assert_eq!(lenient_base64("ab-cd"), "abcd");
        assert_eq!(lenient_base64("abcde-f"), "abcdef==");
    }

    #[test]
    fn a_challenge_missing_parameters_is_an_error() {
        let srp = SrpSignIn::start("eu-central-1_Abc123", "client", "u", "pw");
        let err = srp.respond(&HashMap::new()).unwrap_err().to_string();
        assert!(err.contains("USER_ID_FOR_SRP"), "{err}");
        let bad = HashMap::from([
            ("USER_ID_FOR_SRP".to_string(), "u".to_string()),
            ("SECRET_BLOCK".to_string(), "QUJD".to_string()),
            ("SALT".to_string(), "zz".to_string()),
            ("SRP_B".to_string(), "01".to_string()),
        ]);
        assert!(srp.respond(&bad).is_err());
    }
}
