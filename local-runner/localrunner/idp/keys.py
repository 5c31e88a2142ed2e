"""The realm's RSA keys and their JWKS, as Keycloak publishes them at ``certs``.

Kept apart from the provider because tests drive keys directly (``keys.rotate()``, ``keys.remove(kid)``) to
exercise verifiers across key rotation, and because nothing here depends on users, sessions or HTTP.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def generate(cls, realm: str) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, realm)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
        return cls(_b64url(secrets.token_bytes(24)), key, cert)

    def export(self) -> dict[str, str]:
        """The key as plain strings (PEM), for the provider's data directory (:mod:`.persistence`)."""
        pem = self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
        return {"kid": self.kid, "private_key": pem.decode("ascii"),
                "certificate": self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")}

    @classmethod
    def imported(cls, state: dict[str, str]) -> SigningKey:
        key = serialization.load_pem_private_key(state["private_key"].encode("ascii"), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"key {state['kid']} is not an RSA key")
        return cls(state["kid"], key, x509.load_pem_x509_certificate(state["certificate"].encode("ascii")))

    def jwk(self, alg: str, use: str) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        der = self.certificate.public_bytes(serialization.Encoding.DER)

        def uint(n: int) -> str:
            return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        return {"kid": self.kid, "kty": "RSA", "alg": alg, "use": use, "n": uint(numbers.n), "e": uint(numbers.e),
                "x5c": [base64.b64encode(der).decode("ascii")], "x5t": _b64url(hashlib.sha1(der).digest()),
                "x5t#S256": _b64url(hashlib.sha256(der).digest())}


class Keys:
    """The realm's keys: signing keys by generation (the newest signs, all verify) and one encryption key."""

    def __init__(self, realm: str):
        self._realm = realm
        self._lock = threading.Lock()
        self._signing: list[SigningKey] = [SigningKey.generate(realm)]
        self._encryption = SigningKey.generate(realm)

    @property
    def active(self) -> SigningKey:
        return self._signing[-1]

    def rotate(self) -> SigningKey:
        """A new signing key becomes active; the old ones stay in the JWKS (Keycloak's passive keys)."""
        key = SigningKey.generate(self._realm)
        with self._lock:
            self._signing.append(key)
        return key

    def remove(self, kid: str) -> None:
        """Drop a signing key from the JWKS (a key Keycloak has deleted)."""
        with self._lock:
            self._signing = [k for k in self._signing if k.kid != kid] or self._signing

    def find(self, kid: str | None) -> SigningKey | None:
        return next((k for k in self._signing if k.kid == kid), None)

    def export(self) -> dict[str, Any]:
        with self._lock:
            return {"signing": [k.export() for k in self._signing], "encryption": self._encryption.export()}

    def restore(self, state: dict[str, Any]) -> None:
        """Take the keys of an earlier run: tokens it signed verify again."""
        signing = [SigningKey.imported(k) for k in state["signing"]]
        if not signing:
            raise ValueError("no signing key")
        with self._lock:
            self._signing, self._encryption = signing, SigningKey.imported(state["encryption"])

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk("RS256", "sig") for k in reversed(self._signing)]
                + [self._encryption.jwk("RSA-OAEP", "enc")]}
