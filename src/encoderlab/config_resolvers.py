"""OmegaConf resolvers the configs use; registered when `encoderlab` is imported."""

from __future__ import annotations

import os

import torch
from omegaconf import OmegaConf


def register_resolvers() -> None:
    # `${hydra:runtime.cwd}` cannot be resolved while Hydra builds a multirun's sweep dir (no HydraConfig yet);
    # the launch directory is the same thing, since runs never chdir.
    if not OmegaConf.has_resolver("launch_dir"):
        OmegaConf.register_new_resolver("launch_dir", os.getcwd)
    # `optimizer.fused: ${cuda_available:}`: the fused AdamW kernel (one launch for all parameters) where there is a GPU
    if not OmegaConf.has_resolver("cuda_available"):
        OmegaConf.register_new_resolver("cuda_available", torch.cuda.is_available)
