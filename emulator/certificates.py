"""The certificates behind the emulator's TLS: a local CA and a server certificate.

``emulator.tls`` calls ``write_certificates`` on first use; this module holds the
x509 machinery so that serving plain HTTP never loads it.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from emulator.tls import TlsFiles

logger = logging.getLogger(__name__)

VALIDITY = datetime.timedelta(days=825)
CA_COMMON_NAME = "Array emulator local CA"
SERVER_COMMON_NAME = "array-emulator"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.touch(mode=0o600)
    path.write_bytes(pem)


def _issue(
    subject: str,
    public_key: ec.EllipticCurvePublicKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey],
    hosts: tuple[str, ...] = (),
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer[0]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )
    is_ca = not hosts
    builder = builder.add_extension(
        x509.BasicConstraints(ca=is_ca, path_length=None), critical=True
    )
    if hosts:
        alt = x509.SubjectAlternativeName([_alt_name(h) for h in hosts])
        usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
        builder = builder.add_extension(alt, critical=False)
        builder = builder.add_extension(usage, critical=False)
    else:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )

    return builder.sign(issuer[1], hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _covers(files: TlsFiles, hosts_file: Path, hosts: tuple[str, ...]) -> bool:
    needed = (files.ca_cert, files.cert, files.key, hosts_file)
    if not all(p.exists() for p in needed):
        return False

    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    fresh = cert.not_valid_after_utc > datetime.datetime.now(datetime.UTC)
    known = set(hosts_file.read_text().split())

    return fresh and known.issuperset(hosts)


def write_certificates(
    files: TlsFiles, hosts_file: Path, hosts: tuple[str, ...]
) -> None:
    """Write a CA and a server certificate for ``hosts`` unless usable ones exist.

    Args:
        files: where the CA certificate, server certificate and key go.
        hosts_file: where the hosts the certificate covers are listed.
        hosts: the names and addresses the server certificate covers.
    """
    if _covers(files, hosts_file, hosts):
        return

    files.ca_cert.parent.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    issuer = (CA_COMMON_NAME, ca_key)
    ca_cert = _issue(CA_COMMON_NAME, ca_key.public_key(), issuer)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue(SERVER_COMMON_NAME, server_key.public_key(), issuer, hosts)
    files.ca_cert.write_bytes(_pem(ca_cert))
    files.cert.write_bytes(_pem(server_cert) + _pem(ca_cert))
    _write_key(files.key, server_key)
    hosts_file.write_text("\n".join(hosts))
    logger.info(
        "emulator.certificates_written",
        extra={"emulator.tls_dir": str(files.ca_cert.parent)},
    )
