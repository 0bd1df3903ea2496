"""TLS for the emulator: a local certificate authority and a server certificate.

The first start writes a CA certificate and a server certificate signed by it into
a directory; later starts reuse them while they cover the requested host names. A
client trusts the emulator by trusting the CA file (``curl --cacert``,
``requests.get(..., verify=ca)``).
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

logger = logging.getLogger(__name__)

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
VALIDITY = datetime.timedelta(days=825)
TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
CA_NAME = "ca.pem"
CERT_NAME = "server.pem"
KEY_NAME = "server-key.pem"
HOSTS_NAME = "hosts.txt"


@dataclass(frozen=True)
class TlsFiles:
    """Where the CA certificate, server certificate and server key lie."""

    ca_cert: Path
    cert: Path
    key: Path


def default_directory() -> Path:
    """The per-user directory the emulator keeps its certificates in."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")

    return Path(base) / "array-emulator" / "tls"


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


def _covers(directory: Path, hosts: tuple[str, ...]) -> bool:
    names = [directory / n for n in (CA_NAME, CERT_NAME, KEY_NAME, HOSTS_NAME)]
    if not all(p.exists() for p in names):
        return False

    cert = x509.load_pem_x509_certificate((directory / CERT_NAME).read_bytes())
    fresh = cert.not_valid_after_utc > datetime.datetime.now(datetime.UTC)
    known = set((directory / HOSTS_NAME).read_text().split())

    return fresh and known.issuperset(hosts)


def ensure_certificates(directory: Path, hosts: tuple[str, ...] = ()) -> TlsFiles:
    """Write a CA and a server certificate for ``hosts`` unless usable ones exist."""
    wanted = tuple(dict.fromkeys((*DEFAULT_HOSTS, *hosts)))
    files = TlsFiles(directory / CA_NAME, directory / CERT_NAME, directory / KEY_NAME)
    if _covers(directory, wanted):
        return files

    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _issue(
        "Array emulator local CA",
        ca_key.public_key(),
        ("Array emulator local CA", ca_key),
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue(
        "array-emulator",
        server_key.public_key(),
        ("Array emulator local CA", ca_key),
        wanted,
    )
    files.ca_cert.write_bytes(_pem(ca_cert))
    files.cert.write_bytes(_pem(server_cert) + _pem(ca_cert))
    _write_key(files.key, server_key)
    (directory / HOSTS_NAME).write_text("\n".join(wanted))
    logger.info(
        "emulator.certificates_written", extra={"emulator.tls_dir": str(directory)}
    )

    return files


def server_context(
    cert: Path, key: Path, *, min_version: str = "1.2", max_version: str = "1.2"
) -> ssl.SSLContext:
    """A server-side TLS context for the certificate and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = TLS_VERSIONS[min_version]
    context.maximum_version = TLS_VERSIONS[max_version]
    context.load_cert_chain(cert, key)

    return context
