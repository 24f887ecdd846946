#!/usr/bin/env python3
"""Writes a self-signed TLS certificate and key for the local endpoint: OUT/cert.pem, OUT/key.pem.

AppSync clients open the real-time endpoint with wss:// (Amplify derives it from the GraphQL URL
and turns http:// into wss://), so the local endpoint also speaks TLS on its port. The
certificate names 127.0.0.1 and localhost, is valid for a day, and is its own CA: a Node client
trusts it with NODE_EXTRA_CA_CERTS=OUT/cert.pem. The key never leaves OUT (scripts/local.sh puts
it in its temporary directory). Uses `cryptography`, which moto already installs.

    python3 local/tls_cert.py OUT
"""
import argparse
import datetime
import ipaddress
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def main(out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "notes-api local endpoint")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        # Its own CA, so that trusting it (NODE_EXTRA_CA_CERTS) is enough.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=False, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (out / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = out / "key.pem"
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="local/tls_cert.py",
        description=__doc__.split("\n\n")[0],
        epilog="scripts/local.sh runs it with its temporary directory.",
    )
    parser.add_argument("out_dir", type=pathlib.Path, help="where cert.pem and key.pem are written")
    main(parser.parse_args().out_dir)
