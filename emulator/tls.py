"""TLS for the emulator: a local certificate authority and a server certificate.

The first start writes a CA certificate and a server certificate signed by it into
a directory; later starts reuse them while they cover the requested host names. A
client trusts the emulator by trusting the CA file (``curl --cacert``,
``requests.get(..., verify=ca)``).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
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


def ensure_certificates(directory: Path, hosts: tuple[str, ...] = ()) -> TlsFiles:
    """Write a CA and a server certificate for ``hosts`` unless usable ones exist.

    The certificate machinery is imported here, on first use, so that an
    emulator serving plain HTTP starts without loading it.
    """
    from emulator.certificates import write_certificates

    wanted = tuple(dict.fromkeys((*DEFAULT_HOSTS, *hosts)))
    files = TlsFiles(directory / CA_NAME, directory / CERT_NAME, directory / KEY_NAME)
    write_certificates(files, directory / HOSTS_NAME, wanted)

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
