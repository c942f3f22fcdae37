"""`run(cfg)`: data module + task + callbacks + loggers + Trainer -> fit -> test the best checkpoint -> metrics."""

from __future__ import annotations

import inspect
import json
import logging
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_class, instantiate
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import DictConfig, OmegaConf, open_dict

from encoderlab.callbacks import AtomicCheckpointIO, SaveOnInterrupt
from encoderlab.checkpoints import check_compatible, resolve_checkpoint
from encoderlab.config_checks import check_combinations, check_types, check_values, parameter_types
from encoderlab.data.datamodule_base import SplitDataModule
from encoderlab.distributed import patch_lightning_ddp_launcher, reset_distributed_state, snapshot_distributed_env
from encoderlab.errors import ConfigError
from encoderlab.hardware.allocator import keep_freed_memory
from encoderlab.hardware.precision import precision_reason, resolve_precision, trainer_precision
from encoderlab.hardware.threads import configure_threads
from encoderlab.pretrained import check_architecture, load_encoder_weights, save_encoder
from encoderlab.tasks.base import class_path
from encoderlab.word_vectors.init import initialise_embeddings
from encoderlab.word_vectors.store import TOKENIZER, Embeddings, read_embeddings

log = logging.getLogger(__name__)

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
# Lightning's warning when a checkpoint ends mid-epoch and the loader itself is not stateful
NOT_RESUMABLE_WARNING = "You're resuming from a checkpoint that ended before the epoch ended"


def models_of_family(families: tuple[str, ...]) -> list[str]:
    """Names of the model configs whose `family` is one of `families` (read from conf/model/*.yaml)."""
    names = []
    for path in sorted((CONF_DIR / "model").glob("*.yaml")):
        if OmegaConf.load(path).get("family", "encoder") in families:
            names.append(path.stem)
    return names


def encoder_lacks(model_cfg: Any, requires: tuple[str, ...]) -> list[str]:
    """Which of the `requires` capabilities the model config's encoder class doesn't declare (all of them for a
    model without an `encoder`); read before anything is built."""
    if not requires:
        return []
    target = model_cfg.get("encoder", {}).get("_target_")
    return get_class(target).capabilities.lacks(requires) if target else list(requires)


def models_with_capabilities(families: tuple[str, ...], requires: tuple[str, ...]) -> list[str]:
    """Names of the model configs of `families` whose encoder has the `requires` capabilities (conf/model/*.yaml)."""
    names = []
    for name in models_of_family(families):
        if not encoder_lacks(OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml"), requires):
            names.append(name)
    return names


WORD_VECTOR_DATA = ".TextCorpusDataModule"


def check_model_fits_task(cfg: DictConfig) -> None:
    """Stop before any data is read when the model can't serve the data's task."""
    task_cls = get_class(cfg.task._target_)
    family = cfg.model.get("family", "encoder")
    if family == "word_vectors":  # trained on unlabelled text, by gensim rather than a task
        if not str(cfg.data._target_).endswith(WORD_VECTOR_DATA):
            raise ConfigError(
                f"model={cfg.model.name} is a word_vectors model, but data={cfg.data.name} is not unlabelled text; "
                "use data=enwiki or data=text_corpus data.path=..."
            )
        return
    if family not in task_cls.accepts:
        # name only the models that pass the encoder check below too
        fitting = models_with_capabilities(task_cls.accepts, task_cls.requires)
        raise ConfigError(
            f"model={cfg.model.name} is a {family} model, but data={cfg.data.name} takes "
            f"{' or '.join(task_cls.accepts)} models; models that fit: {', '.join(fitting)}"
        )
    missing = encoder_lacks(cfg.model, task_cls.requires)  # a task that needs more of an encoder (masked-LM)
    if missing:
        raise ConfigError(
            f"model={cfg.model.name} is a {family} model whose encoder lacks {', '.join(missing)}, which "
            f"data={cfg.data.name} needs; models that fit: "
            f"{', '.join(models_with_capabilities(task_cls.accepts, task_cls.requires))}"
        )


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The run's config as plain data, without Hydra's own node (present when composed by tests)."""
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return OmegaConf.to_container(cfg, resolve=True)


def instantiate_all(section: DictConfig | None) -> list[Any]:
    """Instantiate every `_target_` entry of a config section (`callbacks`, `logger`); skip nulls."""
    if not section:
        return []
    return [instantiate(conf) for conf in section.values() if isinstance(conf, DictConfig) and "_target_" in conf]


def count_parameters(module: torch.nn.Module) -> tuple[int, int]:
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return total, trainable


def git_commit() -> str:
    """HEAD (`-dirty` with uncommitted changes); outside a git checkout (a copy of the tree on a GPU machine), the
    commit that `ENCODERLAB_COMMIT` names (scripts/pack_gpu_evidence.sh records it), else `unknown`."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
        return commit + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("ENCODERLAB_COMMIT") or "unknown"


def device_description() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return (
        f"CPU {platform.processor() or platform.machine()} ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"
    )


def override_key(override: str) -> str:
    """`+optimizer.foo=1` -> `optimizer.foo`."""
    return override.split("=", 1)[0].lstrip("+~")


def command_line(without: tuple[str, ...] = ()) -> str:
    """This run's command, ready to paste into a shell; `without`: keys whose overrides are left out."""
    if HydraConfig.initialized():
        overrides = [o for o in HydraConfig.get().overrides.task if override_key(o) not in without]
        return shlex.join(["python", "train.py", *overrides])
    return shlex.join(sys.argv)


def build_callbacks(cfg: DictConfig, has_logger: bool, resume_from: Path | None) -> list[L.Callback]:
    callbacks = instantiate_all(cfg.get("callbacks"))
    if not has_logger:  # LearningRateMonitor refuses to run without a logger
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    for callback in callbacks:
        if isinstance(callback, SaveOnInterrupt):  # it adds the checkpoint it writes
            callback.resume_hint = command_line(without=("ckpt_path",))
        if isinstance(callback, ModelCheckpoint) and resume_from is not None:
            # a resumed run keeps writing into its checkpoint folder, so best-k tracking and last.ckpt carry on
            callback.dirpath = str(resume_from.parent)
    return callbacks


def finetune_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """`finetune=...` for the tasks that fine-tune an encoder; anything but `full` elsewhere is a mistake."""
    settings = cfg.get("finetune")
    if settings is None:
        return {}
    if "finetune" in inspect.signature(get_class(cfg.task._target_)).parameters:
        return {"finetune": settings}
    if settings.get("method", "full") != "full":
        raise ConfigError(
            f"finetune={settings.method} applies to classification and token classification, not data={cfg.data.name}"
        )
    return {}


COMPILED_PAD_MULTIPLE = 16


def compile_friendly_padding(cfg: DictConfig) -> dict[str, Any]:
    """A compiled model sees a few padded lengths (multiples of 16), not one per batch, so it compiles a few
    graphs instead of recompiling as lengths change; an explicit `data.pad_to_multiple_of` wins."""
    if cfg.task.get("compile") and "pad_to_multiple_of" in cfg.data and cfg.data.pad_to_multiple_of is None:
        return {"pad_to_multiple_of": COMPILED_PAD_MULTIPLE}
    return {}


def use_pretrained_tokenizer(cfg: DictConfig) -> Path | None:
    """`model.pretrained=<dir>`: check the encoder there fits the model config, and point the data at its tokenizer
    (a fine-tuned model must read the vocabulary it was pretrained with, not a retrained one)."""
    directory = cfg.model.get("pretrained")
    if not directory:
        return None
    directory = Path(directory).expanduser().resolve()
    check_architecture(directory, OmegaConf.to_container(cfg.model.encoder, resolve=True), cfg.model.name)
    if "tokenizer_path" not in parameter_types(cfg.data._target_):
        raise ConfigError(f"data={cfg.data.name} can't take a pretrained tokenizer, so model.pretrained can't be used")
    with open_dict(cfg):
        cfg.data.tokenizer_path = str(directory / "tokenizer.json")
    return directory


def train_examples(datamodule: Any) -> int | None:
    """How many training examples (or blocks) the run had: the x of a learning curve."""
    train = getattr(datamodule, "datasets", {}).get("train")
    return len(train) if train is not None else None


def use_embeddings_tokenizer(cfg: DictConfig) -> tuple[Path, Embeddings] | None:
    """`model.embeddings=<dir>`: read the word vectors there and point the data at their tokenizer (the vectors'
    rows are that tokenizer's ids)."""
    directory = cfg.model.get("embeddings")
    if not directory:
        return None
    if cfg.model.get("pretrained"):
        raise ConfigError("model.embeddings and model.pretrained both set the token embeddings; keep one of them")
    directory = Path(directory).expanduser().resolve()
    embeddings = read_embeddings(directory)
    if "tokenizer_path" not in parameter_types(cfg.data._target_):
        raise ConfigError(f"data={cfg.data.name} can't take a given tokenizer, so model.embeddings can't be used")
    with open_dict(cfg):
        cfg.data.tokenizer_path = str(directory / TOKENIZER)
    return directory, embeddings


def run(cfg: DictConfig) -> dict[str, float]:
    check_model_fits_task(cfg)
    if cfg.model.get("family") == "word_vectors":  # not a Lightning task: gensim trains the vectors
        from encoderlab.word_vectors.job import run_word_vectors

        configure_threads()
        return run_word_vectors(cfg)
    started = time.perf_counter()
    commit = git_commit()  # now, before the tree can change under a long run
    check_types(cfg)
    check_values(cfg)
    check_combinations(cfg)
    ckpt_path = resolve_checkpoint(cfg.get("ckpt_path"), cfg.paths.log_dir, cfg.run_name)
    if HydraConfig.initialized():
        patch_lightning_ddp_launcher()
    distributed_env = snapshot_distributed_env()
    L.seed_everything(cfg.seed, workers=True)
    log.info("Threads: %s", configure_threads(int(cfg.data.get("num_workers", 0) or 0)))
    log.info("Memory: %s", keep_freed_memory())
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    vectors = use_embeddings_tokenizer(cfg)
    pretrained = use_pretrained_tokenizer(cfg)

    finetune = finetune_kwargs(cfg)
    datamodule = instantiate(cfg.data, **compile_friendly_padding(cfg))
    tokenizer = datamodule.tokenizer  # trained once on the training split, then read from the cache
    task = instantiate(
        cfg.task,
        model=cfg.model,
        optimizer=cfg.optimizer,
        scheduler=cfg.scheduler,
        **datamodule.task_kwargs(),  # what the task must know of the data: vocabulary, labels, special ids
        **finetune,
        _recursive_=False,
    )
    task.tokenizer_json = tokenizer.to_str()
    task.encoding_spec = getattr(datamodule, "encoding_spec", None)  # classification data: saved with the tokenizer
    if pretrained is not None:
        loaded, adapters = load_encoder_weights(task.net.encoder, pretrained)
        log.info(
            "Loaded %d pretrained encoder weights from %s (every one; new adapters: %d)",
            loaded,
            pretrained,
            len(adapters),
        )
    if vectors is not None and ckpt_path is None:  # a resumed run's checkpoint already holds them, trained on
        encoder = task.net.encoder
        rows = initialise_embeddings(
            encoder.get_input_embeddings(),
            vectors[1],
            str(vectors[0]),
            f"model.encoder.{encoder.embedding_size_key}",
            cfg.model.get("embeddings_scale", "raw"),
        )
        log.info(
            "Token embeddings: %d of %d rows from the word vectors in %s", rows, len(vectors[1].covered), vectors[0]
        )
    if ckpt_path is not None:
        check_compatible(ckpt_path, dict(task.hparams), task.tokenizer_json, class_path(type(task)))
        log.info("Resuming from %s", ckpt_path)
    total, trainable = count_parameters(task.net)
    log.info(
        "%s: %s trainable of %s parameters (%.2f%%)%s",
        cfg.model.name,
        f"{trainable:,}",
        f"{total:,}",
        100 * trainable / max(total, 1),
        f"; finetune={task.finetune_summary}" if task.finetune_summary else "",
    )

    loggers: list[Logger] = instantiate_all(cfg.get("logger"))
    callbacks = build_callbacks(cfg, has_logger=bool(loggers), resume_from=ckpt_path)
    precision = resolve_precision(cfg.trainer.precision, str(cfg.trainer.accelerator))
    log.info("trainer.precision=%s (%s)", precision, precision_reason(precision, str(cfg.trainer.accelerator)))
    precision_flag, precision_plugins = trainer_precision(precision, str(cfg.trainer.accelerator))
    trainer: L.Trainer = instantiate(
        cfg.trainer,
        precision=precision_flag,
        callbacks=callbacks,
        logger=loggers or False,
        plugins=[AtomicCheckpointIO(), *precision_plugins],
    )
    for logger in loggers:
        logger.log_hyperparams(
            {"config": resolved_config(cfg), "model/params_total": total, "model/params_trainable": trainable}
        )

    checkpoint_cb = next((c for c in callbacks if isinstance(c, ModelCheckpoint) and c.monitor), None)
    if trainer.is_global_zero:  # each checkpoint carries it too; this copy is for humans and other tools
        tokenizer.save(str(output_dir / "tokenizer.json"))

    try:
        with warnings.catch_warnings():
            if isinstance(datamodule, SplitDataModule):  # its checkpoint state resumes the train loader mid-epoch
                warnings.filterwarnings("ignore", message=NOT_RESUMABLE_WARNING)
            trainer.fit(task, datamodule=datamodule, ckpt_path=ckpt_path)
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        best = checkpoint_cb.best_model_path if checkpoint_cb is not None else ""
        if cfg.get("test", True):
            # the best checkpoint's weights, not the last epoch's (fast_dev_run writes no checkpoint)
            trainer.test(task, datamodule=datamodule, ckpt_path=best or None)
            metrics.update({k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")})
        summary = {
            "command": command_line(),
            "commit": commit,
            "device": device_description(),
            "precision": precision,
            "model": cfg.model.name,
            "data": cfg.data.name,
            "seed": cfg.seed,
            "params_total": total,
            "params_trainable": trainable,
            "epochs": trainer.current_epoch,
            "train_examples": train_examples(datamodule),
            "global_steps": trainer.global_step,
            "wall_time_sec": round(time.perf_counter() - started, 1),
            "best_checkpoint": best,
            "resumed_from": str(ckpt_path) if ckpt_path else None,
            "metrics": metrics,
            **task.run_summary(),
        }
        if trainer.is_global_zero and (task.exports_encoder or cfg.get("export_encoder")):
            # after testing the best checkpoint, the task holds its weights
            encoder_dir = save_encoder(
                output_dir / "encoder", task.encoder_for_export(), task.tokenizer_json, cfg.model.name
            )
            summary["encoder_dir"] = str(encoder_dir)
            log.info(
                "Encoder and tokenizer written to %s (fine-tune with model.pretrained=%s)", encoder_dir, encoder_dir
            )
        if trainer.is_global_zero:
            (output_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            for logger in loggers:
                if isinstance(logger, WandbLogger):  # W&B's run tables and parallel coordinates read the summary
                    logger.experiment.summary.update(
                        {
                            "model/params_total": total,
                            "model/params_trainable": trainable,
                            "wall_time_sec": summary["wall_time_sec"],
                            "epochs": summary["epochs"],
                        }
                    )
        return metrics
    finally:
        for callback in callbacks:
            if isinstance(callback, SaveOnInterrupt):  # Lightning's teardown after an error re-installs ours
                callback.restore_signal_handlers()
        if any(isinstance(logger, WandbLogger) for logger in loggers):
            import wandb

            wandb.finish()  # one W&B run per job, also between multirun jobs
        reset_distributed_state(distributed_env)
