"""The Hydra configs: where they live, the catalog of model configs (which fit which task), and the checks a
composed config passes before anything is built.

May import: `errors`, `models` and `tasks` (their classes, to read what they declare), `hardware`."""

from pathlib import Path

CONF_DIR = Path(__file__).resolve().parents[3] / "conf"
