"""The Hydra configs: where they live, the catalog of model configs (which fit which task), and the checks a
composed config passes before anything is built.

May import: `errors`, `models` and `tasks` (their classes, to read what they declare), `hardware`."""

from importlib.resources import files
from pathlib import Path

# Shipped inside the package (package data), so a wheel installed anywhere carries them. Hydra reads a folder, and a
# wheel installs as files on disk, so the resource is a real path.
CONF_DIR = Path(str(files("encoderlab") / "conf"))
