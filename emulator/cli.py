"""The ``array-emulator`` command line: serve an array, list profiles, inspect a
backup file, print a client conformance report."""

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
from emulator.control import ControlSettings, state
from emulator.control.client import ControlClient, ControlError
from emulator.control.conformance import render_text
from emulator.errors import ArrayError
from emulator.model.clock import iso_time
from emulator.profile import (
    DEFAULT_PROFILE,
    ProfileError,
    bundled_profiles,
    load_profile,
)
from emulator.server import EmulatorServer, array_of, create_app
from emulator.tls import TlsFiles, default_directory, ensure_certificates

DEFAULT_PORT = 8443
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 3
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
    serve.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="load the array's state from FILE at start, save it there at shutdown",
    )
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="require TOKEN on every /_emulator/ request (then from any address)",
    )
    serve.add_argument(
        "--no-control", action="store_true", help="turn the /_emulator/ plane off"
    )

    report = commands.add_parser(
        "conformance", help="print the client conformance report of an emulator"
    )
    report.add_argument("--url", required=True, help="the emulator's base URL")
    report.add_argument("--cacert", type=Path, help="the emulator's CA certificate")
    report.add_argument(
        "--insecure", action="store_true", help="skip the certificate check"
    )
    report.add_argument(
        "--control-token-env",
        metavar="NAME",
        help="read the control token from this environment variable",
    )

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
    if args.no_control:
        print("  control plane: off")
    else:
        access = "token required" if args.control_token else "loopback only"
        print(f"  control plane: {server.url}/_emulator ({access})")
    print("Press Ctrl+C to stop.", flush=True)


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    settings = ControlSettings(enabled=not args.no_control, token=args.control_token)
    try:
        profile = load_profile(args.profile)
        app = create_app(profile, control_settings=settings)
        if args.state is not None and args.state.exists():
            state.read_file(array_of(app), args.state, profile=profile)
        server = EmulatorServer(
            app, host=args.host, port=args.port, tls=_tls_files(args)
        )
    except (ProfileError, OSError) as exc:
        print(f"array-emulator: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ArrayError as exc:
        reason = f"{exc.params.get('parameter')}: {exc.params.get('reason')}"
        print(f"array-emulator: {args.state}: {reason}", file=sys.stderr)
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
        if args.state is not None:
            state.write_file(server.array, args.state)

    return EXIT_OK


def _conformance(args: argparse.Namespace) -> int:
    token = None
    if args.control_token_env:
        token = os.environ.get(args.control_token_env)
    client = ControlClient(
        args.url, ca_file=args.cacert, token=token, verify=not args.insecure
    )
    try:
        result = client.conformance()
    except ControlError as exc:
        print(f"array-emulator: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"array-emulator: cannot reach {args.url}: {exc}", file=sys.stderr)
        return EXIT_FAILURE

    print(render_text(result), end="")  # type: ignore[arg-type]

    return EXIT_FINDINGS if result["findings"] else EXIT_OK


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

    if args.command == "conformance":
        return _conformance(args)

    return _inspect(args)


if __name__ == "__main__":
    sys.exit(main())
