"""The ``array-emulator`` command line: serve an array, list profiles, inspect a
backup file."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from emulator import backup_file
from emulator.model.clock import iso_time
from emulator.profile import (
    DEFAULT_PROFILE,
    ProfileError,
    bundled_profiles,
    load_profile,
)
from emulator.server import EmulatorServer, create_app
from emulator.tls import TlsFiles, default_directory, ensure_certificates

DEFAULT_PORT = 8443
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
BACKUP_PATH = (
    "/ConfigurationManager/v1/objects/encryption-keys/file/actions/backup/invoke"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="array-emulator",
        description="An emulator of a Hitachi VSP array's REST API.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the emulated array")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0: any free port"
    )
    serve.add_argument("--profile", default=DEFAULT_PROFILE, help="a name or a file")
    serve.add_argument("--http", action="store_true", help="plain HTTP, no TLS")
    serve.add_argument("--cert", type=Path, help="your own certificate (PEM)")
    serve.add_argument("--key", type=Path, help="the key of --cert (PEM)")
    serve.add_argument(
        "--tls-dir", type=Path, help="where generated certificates are kept"
    )
    serve.add_argument("--verbose", action="store_true", help="log every request")

    commands.add_parser("profiles", help="list the bundled profiles")

    backup = commands.add_parser("backup-file", help="work with backup files")
    backup_commands = backup.add_subparsers(dest="backup_command", required=True)
    inspect = backup_commands.add_parser("inspect", help="list the keys in a file")
    inspect.add_argument("file", type=Path)
    inspect.add_argument(
        "--password-env",
        metavar="NAME",
        help="read the password from this environment variable (else a prompt)",
    )
    inspect.add_argument(
        "--show-material", action="store_true", help="also print the key material"
    )

    return parser


def _tls_files(args: argparse.Namespace) -> TlsFiles | None:
    if args.http:
        return None

    if args.cert or args.key:
        if not (args.cert and args.key):
            raise SystemExit("array-emulator: --cert and --key go together")
        return TlsFiles(ca_cert=args.cert, cert=args.cert, key=args.key)

    return ensure_certificates(args.tls_dir or default_directory(), (args.host,))


def _announce(server: EmulatorServer, args: argparse.Namespace) -> None:
    profile = server.array.profile
    print(f"Emulating {profile.storage.model} ({profile.name}) at {server.url}")
    print(f"  storageDeviceId {profile.storage.storage_device_id}")
    for user in profile.users:
        roles = "; ".join(user.roles)
        print(f"  user {user.name} / {user.password}: {roles}")
    trust = "-k"
    if server.tls is not None:
        print(f"  CA certificate: {server.tls.ca_cert}")
        trust = f"--cacert {server.tls.ca_cert}"
    if server.tls is None:
        trust = ""
    base = f"{server.url}/ConfigurationManager"
    print("Try:")
    print(f"  curl {trust} {base}/configuration/version".replace("  ", " "))
    print(
        f"  curl {trust} -u secadmin:secadmin-pass -X POST "
        f"-H 'Content-Type: application/json' {base}/v1/objects/sessions"
    )
    print("Press Ctrl+C to stop.", flush=True)


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        app = create_app(load_profile(args.profile))
        server = EmulatorServer(
            app, host=args.host, port=args.port, tls=_tls_files(args)
        )
    except (ProfileError, OSError) as exc:
        print(f"array-emulator: {exc}", file=sys.stderr)
        return EXIT_FAILURE

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    _announce(server, args)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()

    return EXIT_OK


def _profiles() -> int:
    for name in bundled_profiles():
        profile = load_profile(name)
        default = " (default)" if name == DEFAULT_PROFILE else ""
        print(f"{name}{default}: {profile.description}")

    return EXIT_OK


def _read_password(env_name: str | None) -> str:
    if env_name is None:
        return getpass.getpass("Backup file password: ")

    password = os.environ.get(env_name)
    if password is None:
        raise SystemExit(
            f"array-emulator: the environment variable {env_name} is unset"
        )

    return password


def _inspect(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(
            f"array-emulator: cannot read {args.file}: {exc.strerror}", file=sys.stderr
        )
        return EXIT_FAILURE

    try:
        header = backup_file.read_header(data)
        keys = backup_file.open_backup(data, _read_password(args.password_env))
    except backup_file.WrongPassword:
        print("array-emulator: the password does not open this file", file=sys.stderr)
        return EXIT_FAILURE
    except backup_file.BackupFileError as exc:
        print(f"array-emulator: {args.file} cannot be opened: {exc}", file=sys.stderr)
        return EXIT_FAILURE

    print(f"Backup file {args.file}: format version {header.version}, {len(keys)} keys")
    for key in keys:
        line = (
            f"  keyId {key.key_id:>4}  {key.key_type:<4}  created "
            f"{iso_time(key.created_time)}  {key.generated_location}  "
            f"{key.target_device_location}"
        )
        if args.show_material:
            line += f"  {key.material.hex()}"
        print(line)

    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)

    if args.command == "profiles":
        return _profiles()

    return _inspect(args)


if __name__ == "__main__":
    sys.exit(main())
