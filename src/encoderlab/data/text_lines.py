"""Data files read as UTF-8 lines, plain or gzip: the one opener every reader shares.

Every way a file can fail to read (missing, a folder, unreadable, a broken or truncated gzip, bytes that are not
UTF-8) stops with one `UserError` naming the file, and the line where it is known. A UTF-8 byte-order mark at the
start of the file is dropped, so a header written by a spreadsheet names its first column as shown.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from encoderlab.errors import UserError

BOM = "\ufeff"


def read_text_lines(path: Path) -> Iterator[str]:
    """The lines of `path` (`.gz` is decompressed), decoded, each with its line ending.

    Split on `\\n` only, in bytes, so a bad byte is reported at its own line (a text-mode reader decodes whole
    chunks and can't say which line failed).
    """
    number = 0
    try:
        with gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                line = decode_line(raw, path, number)
                yield line.removeprefix(BOM) if number == 1 else line
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        where = f"after line {number}" if number else "at its start"
        raise UserError(
            f"{path} is a truncated or corrupt gzip file (it breaks {where}: {error}); "
            "re-download or re-compress it (`make data` for the bundled sets)"
        ) from None
    except FileNotFoundError:
        raise UserError(f"{path} does not exist; check the path (or run `make data`)") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory; point the setting at a file inside it") from None
    except OSError as error:
        raise UserError(f"{path} can't be read ({error.strerror or error}); check that it is a readable file") from None


def decode_line(raw: bytes, path: Path, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{path} line {number} is not valid UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1}); "
            "re-encode the file as UTF-8"
        ) from None
