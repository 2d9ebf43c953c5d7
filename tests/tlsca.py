"""Throwaway certificate authorities for the TLS tests (``cryptography``).

Each test session makes its own CAs and certificates: nothing here is ever
trusted outside the test. P-256 keys, so making a dozen takes milliseconds.
"""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Authority", "Identity"]

_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Identity:
    """A certificate (chain) and its key, as PEM files."""

    name: str
    cert: Path
    key: Path
    serial: int

    @property
    def cert_pem(self) -> bytes:
        return self.cert.read_bytes()

    @property
    def key_pem(self) -> bytes:
        return self.key.read_bytes()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class Authority:
    """A CA that issues certificates into ``folder``."""

    def __init__(
        self,
        common_name: str,
        folder: Path,
        *,
        parent: Authority | None = None,
    ) -> None:
        self.common_name = common_name
        self.folder = folder
        self.parent = parent
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        issuer_name: x509.Name = (
            parent.subject if parent is not None else _name(common_name)
        )
        signer = parent._key if parent is not None else self._key
        self.subject: x509.Name = _name(common_name)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self.subject)
            .issuer_name(issuer_name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + 30 * _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            )
            .sign(signer, hashes.SHA256())
        )
        self.cert = folder / f"{common_name}.ca.pem"
        self.cert.write_bytes(self.pem)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def chain_pem(self) -> bytes:
        """This CA's certificate and its parents' but the root's."""
        if self.parent is None:
            return b""
        return self.pem + self.parent.chain_pem()

    def issue(
        self,
        common_name: str,
        *,
        file_name: str | None = None,
        dns: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
        expired: bool = False,
    ) -> Identity:
        """A leaf certificate for ``common_name`` (good for 30 days, or
        expired yesterday), its file holding the chain up to the root."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        start, end = (
            (now - 10 * _DAY, now - _DAY) if expired else (now - _DAY, now + 30 * _DAY)
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        )
        names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), False)
        certificate = builder.sign(self._key, hashes.SHA256())
        stem = file_name or common_name
        cert = self.folder / f"{stem}.pem"
        key_file = self.folder / f"{stem}.key"
        pem = certificate.public_bytes(serialization.Encoding.PEM)
        cert.write_bytes(pem + self.chain_pem())
        key_file.write_bytes(_key_pem(key))
        key_file.chmod(0o600)
        return Identity(common_name, cert, key_file, certificate.serial_number)

    def revocation_list(self, revoked: list[Identity], folder: Path) -> Path:
        """A CRL of this CA revoking ``revoked``, written into ``folder`` as
        OpenSSL's CApath lookup wants it (``<issuer hash>.r0``, by
        ``openssl rehash``); returns the folder."""
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.subject)
            .last_update(now - _DAY)
            .next_update(now + 30 * _DAY)
        )
        for identity in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(identity.serial)
                .revocation_date(now - _DAY)
                .build()
            )
        crl = builder.sign(self._key, hashes.SHA256())
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.common_name}.crl.pem").write_bytes(
            crl.public_bytes(serialization.Encoding.PEM)
        )
        subprocess.run(["openssl", "rehash", str(folder)], check=True, timeout=60)
        return folder
