"""OmegaConf resolvers the configs use; registered when `encoderlab` is imported."""

from __future__ import annotations

import os

from omegaconf import OmegaConf


def register_resolvers() -> None:
    # `${hydra:runtime.cwd}` cannot be resolved while Hydra builds a multirun's sweep dir (no HydraConfig yet);
    # the launch directory is the same thing, since runs never chdir.
    if not OmegaConf.has_resolver("launch_dir"):
        OmegaConf.register_new_resolver("launch_dir", os.getcwd)
