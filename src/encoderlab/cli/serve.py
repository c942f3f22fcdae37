"""Serve a checkpoint over HTTP: `encoderlab serve CKPT [--port 8000] [--backend onnx] [--api-key-file FILE]`.

Binds 127.0.0.1 unless told otherwise. SIGTERM or Ctrl-C shuts down gracefully: no new connections, open requests
are answered (up to `--graceful-timeout` seconds), then the process exits 0. The API key comes from
`--api-key-file` or the `ENCODERLAB_API_KEY` environment variable (never from the command line, where `ps` shows it).
Slow or idle clients are cut off (`--header-timeout`, `--body-timeout`, `--keep-alive-timeout`), open connections
are capped (`--max-connections`), and only the `Host` names in `--allowed-hosts` are answered.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from encoderlab.cli.commands import command_parser
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.errors import UserError
from encoderlab.inference.predictor import load_predictor
from encoderlab.inference.scorers import BACKENDS

log = logging.getLogger("encoderlab.serve")
KEY_VARIABLE = "ENCODERLAB_API_KEY"


def read_api_key(path: str | None) -> str | None:
    if path is None:
        key = os.environ.get(KEY_VARIABLE, "").strip() or None
        try:
            key and key.encode("utf-8")  # undecodable bytes in the environment come through as lone surrogates
        except UnicodeEncodeError:
            raise UserError(f"{KEY_VARIABLE} is not valid UTF-8; set it to the key as UTF-8 text") from None
        return key
    file = Path(path)
    if not file.is_file():
        raise UserError(f"no API key file {file}; write the key into it, or set {KEY_VARIABLE}")
    try:
        key = file.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise UserError(f"API key file {file} is not UTF-8 text; write the key into it as UTF-8") from None
    if not key:
        raise UserError(f"API key file {file} is empty; write the key into it")
    return key


def allowed_hosts(value: str | None, bound_host: str) -> list[str]:
    from encoderlab.serving.hosts import default_allowed_hosts

    if value is None:
        return default_allowed_hosts(bound_host)
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise UserError("--allowed-hosts is empty; give host names separated by commas, or '*' for any")
    return names


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts: `--port 0` gets a free port and we can say which."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port} ({error.strerror}); pick another --port") from None
    return sock


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("serve", __doc__)
    parser.add_argument("checkpoint", help="a .ckpt from a classification, NER or translation run")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0: any free port (printed on start)")
    parser.add_argument("--backend", choices=BACKENDS, default="torch")
    parser.add_argument("--batch-size", type=int, default=64, help="most texts per model call")
    parser.add_argument("--max-texts", type=int, default=64, help="most texts per request")
    parser.add_argument("--max-chars", type=int, default=2000, help="most characters per text")
    parser.add_argument("--max-body-bytes", type=int, default=1_000_000)
    parser.add_argument("--max-connections", type=int, default=64, help="open connections; more are refused (503)")
    parser.add_argument("--header-timeout", type=float, default=10.0, help="seconds for a request's headers")
    parser.add_argument("--body-timeout", type=float, default=30.0, help="seconds for a request's body (then 408)")
    parser.add_argument("--keep-alive-timeout", type=float, default=5.0, help="seconds idle between requests")
    parser.add_argument(
        "--allowed-hosts",
        default=None,
        help="Host header names served, comma-separated ('*': any); default localhost,127.0.0.1,::1 and --host",
    )
    parser.add_argument("--api-key-file", default=None, help=f"file holding the API key (or set {KEY_VARIABLE})")
    parser.add_argument("--graceful-timeout", type=float, default=10.0, help="seconds to finish open requests")
    parser.add_argument("--access-log", action="store_true")
    return parser.parse_args(argv)


@one_line_errors
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        import uvicorn

        from encoderlab.serving.app import ServeSettings, create_app
        from encoderlab.serving.connections import ConnectionLimits, guarded_protocol
    except ImportError as error:
        raise UserError(
            f"serving needs the 'serve' extra ({error.name} is missing): pip install 'encoderlab[serve]'"
        ) from None
    if min(args.batch_size, args.max_texts, args.max_chars, args.max_body_bytes) < 1:
        raise UserError("--batch-size, --max-texts, --max-chars and --max-body-bytes must be at least 1")
    if args.max_connections < 1:
        raise UserError("--max-connections must be at least 1")
    if min(args.header_timeout, args.body_timeout, args.keep_alive_timeout) <= 0:
        raise UserError("--header-timeout, --body-timeout and --keep-alive-timeout must be positive (seconds)")
    settings = ServeSettings(
        max_texts=args.max_texts,
        max_chars=args.max_chars,
        max_body_bytes=args.max_body_bytes,
        batch_size=args.batch_size,
        body_timeout=args.body_timeout,
        api_key=read_api_key(args.api_key_file),
        allowed_hosts=allowed_hosts(args.allowed_hosts, args.host),
    )
    limits = ConnectionLimits(max_connections=args.max_connections, header_timeout=args.header_timeout)
    predictor = load_predictor(args.checkpoint, args.backend)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    auth = "API key required" if settings.api_key else "no API key"
    print(f"listening on http://{shown}:{port} ({predictor.kind}, backend {args.backend}, {auth})", flush=True)
    if host in ("0.0.0.0", "::") and args.allowed_hosts is None:
        log.warning("only Host names %s are answered; pass --allowed-hosts NAME,...", ",".join(settings.allowed_hosts))
    app = create_app(predictor, settings)
    config = uvicorn.Config(
        app,
        # Always h11 (even where httptools is installed): the connection guards are a subclass of its protocol.
        # uvicorn calls `http` per connection, so a factory works; its annotation admits only a class.
        http=guarded_protocol(limits, app.state.metrics),  # type: ignore[arg-type]
        ws="none",
        lifespan="on",
        log_level="info",
        access_log=args.access_log,
        timeout_keep_alive=args.keep_alive_timeout,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    # uvicorn finishes its graceful shutdown, restores the handlers it found, then re-raises the signal: these make
    # that a plain exit 0 instead of death by SIGTERM (-15) or a KeyboardInterrupt traceback.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: sys.exit(0))
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
