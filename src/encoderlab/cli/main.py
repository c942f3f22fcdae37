"""`encoderlab <command> [args]`: one command for everything, in the manner of `litgpt` and `huggingface-cli`.
`encoderlab --help` lists the commands; `encoderlab <command> --help` shows that command's options and examples."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from encoderlab import __version__
from encoderlab.cli.commands import COMMANDS


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {command.summary}" for name, command in COMMANDS.items()]
    return "\n".join(
        [
            "usage: encoderlab <command> [args]",
            "",
            "Develop, train and compare text encoders.",
            "",
            "commands:",
            *lines,
            "",
            "examples:",
            "  encoderlab train model=bilstm data=sst2",
            f"  encoderlab predict {COMMANDS['predict'].examples[0].split(' ', 2)[2]}",
            "",
            "`encoderlab <command> --help` shows a command's options and examples.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        print(f"encoderlab {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"error: no command {name!r}; the commands are {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    command = COMMANDS[name]
    module = importlib.import_module(command.module)  # only the chosen command's imports are paid for
    entry = getattr(module, command.function)
    if command.hydra:
        # Hydra reads its overrides (and --help, -m, --cfg) from sys.argv; DDP restarts ranks from sys.argv[0]
        sys.argv = [str(module.__file__), *rest]
        entry()
        return 0
    code = entry(rest)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
