"""`train(cfg)`: data module + task + callbacks + loggers + Trainer -> fit -> test the best checkpoint -> metrics,
with the run's `summary.json` written and its encoder exported when the task makes one."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import DictConfig

from encoderlab.callbacks import SaveOnInterrupt
from encoderlab.config.checks import check_combinations, check_types, check_values
from encoderlab.config.model_catalog import check_model_fits_task
from encoderlab.data.datamodule_base import SplitDataModule
from encoderlab.hardware.allocator import keep_freed_memory
from encoderlab.hardware.threads import configure_threads
from encoderlab.interop.pretrained import save_encoder
from encoderlab.report.provenance import command_line, device_description, git_commit
from encoderlab.tasks.base import class_path
from encoderlab.training.checkpoint_choice import checkpoint_to_test
from encoderlab.training.distributed import (
    patch_lightning_ddp_launcher,
    reset_distributed_state,
    snapshot_distributed_env,
)
from encoderlab.training.quiet_output import quiet_output
from encoderlab.training.requeue import requeued_checkpoint
from encoderlab.training.resume import check_compatible, resolve_checkpoint
from encoderlab.training.run_inputs import (
    StartingPoint,
    char_kwargs,
    compile_friendly_padding,
    finetune_kwargs,
    starting_point,
)
from encoderlab.training.summary import count_parameters, resolved_config, train_examples, write_summary
from encoderlab.training.trainer_setup import build_callbacks, build_trainer, instantiate_all, monitoring_checkpoint
from encoderlab.word_vectors.init import initialise_embeddings

log = logging.getLogger(__name__)

# Lightning's warning when a checkpoint ends mid-epoch and the loader itself is not stateful
NOT_RESUMABLE_WARNING = "You're resuming from a checkpoint that ended before the epoch ended"


def train(cfg: DictConfig) -> dict[str, float]:
    """Train (and test) what `cfg` describes; returns the final metrics (also in the run dir's summary.json)."""
    quiet_output()
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
    requeued = requeued_checkpoint(cfg.paths.output_dir) if ckpt_path is None else None
    if requeued is not None:
        log.info("Requeued SLURM job: resuming from %s", requeued)
        ckpt_path = requeued  # set before the starting weights, so word vectors are not loaded only to be replaced
    if HydraConfig.initialized():
        patch_lightning_ddp_launcher()
    distributed_env = snapshot_distributed_env()
    L.seed_everything(cfg.seed, workers=True)
    log.info("Threads: %s", configure_threads(int(cfg.data.get("num_workers", 0) or 0)))
    log.info("Memory: %s", keep_freed_memory())
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    start = starting_point(cfg)

    finetune = finetune_kwargs(cfg)
    datamodule = instantiate(cfg.data, **start.data_kwargs(), **compile_friendly_padding(cfg), **char_kwargs(cfg))
    tokenizer = datamodule.tokenizer  # trained once on the training split, then read from the cache
    task = instantiate(
        cfg.task,
        model=cfg.model,
        optimizer=cfg.optimizer,
        scheduler=cfg.scheduler,
        **datamodule.task_kwargs(),  # what the task must know of the data: vocabulary, labels, special ids
        **finetune,
        **start.task_kwargs(),
        _recursive_=False,
    )
    task.tokenizer_json = tokenizer.to_str()
    task.encoding_spec = getattr(datamodule, "encoding_spec", None)  # classification data: saved with the tokenizer
    load_starting_weights(task, start, cfg, resuming=ckpt_path is not None)
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
    # a requeued job writes on into its own dir (its hpc_ckpt sits above checkpoints/)
    callbacks = build_callbacks(cfg, has_logger=bool(loggers), resume_from=None if requeued else ckpt_path)
    trainer, precision = build_trainer(cfg, callbacks, loggers)
    for logger in loggers:
        logger.log_hyperparams(
            {"config": resolved_config(cfg), "model/params_total": total, "model/params_trainable": trainable}
        )
    checkpoint_cb = monitoring_checkpoint(callbacks)
    if trainer.is_global_zero:  # each checkpoint carries it too; this copy is for humans and other tools
        tokenizer.save(str(output_dir / "tokenizer.json"))

    try:
        with warnings.catch_warnings():
            if isinstance(datamodule, SplitDataModule):  # its checkpoint state resumes the train loader mid-epoch
                warnings.filterwarnings("ignore", message=NOT_RESUMABLE_WARNING)
            trainer.fit(task, datamodule=datamodule, ckpt_path=ckpt_path)
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        best = checkpoint_cb.best_model_path if checkpoint_cb is not None else ""
        best_score = checkpoint_cb.best_model_score if checkpoint_cb is not None else None
        tested, averaging = checkpoint_to_test(
            trainer, task, datamodule, best, float(best_score) if best_score is not None else None
        )
        metrics.update(averaging.get("metrics", {}))
        if cfg.get("test", True):
            # the best (or averaged) checkpoint's weights, not the last epoch's (fast_dev_run writes no checkpoint)
            trainer.test(task, datamodule=datamodule, ckpt_path=tested or None)
            metrics.update({k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")})
        summary: dict[str, Any] = {
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
            **averaging.get("fields", {}),
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
            write_summary(output_dir, summary, loggers)
        return metrics
    finally:
        for callback in callbacks:
            if isinstance(callback, SaveOnInterrupt):  # Lightning's teardown after an error re-installs ours
                callback.restore_signal_handlers()
        if any(isinstance(logger, WandbLogger) for logger in loggers):
            import wandb

            wandb.finish()  # one W&B run per job, also between multirun jobs
        reset_distributed_state(distributed_env)


def load_starting_weights(task: Any, start: StartingPoint, cfg: DictConfig, resuming: bool) -> None:
    """Word vectors as token embeddings (not when resuming: the checkpoint already holds them, trained on); a
    pretrained encoder's weights the task loaded itself."""
    if start.pretrained is not None:  # the task loaded them, before any adapter wrapped the encoder
        log.info(
            "Loaded %d pretrained encoder weights from %s (every one, before the fine-tuning set-up)",
            task.pretrained_weights_loaded,
            start.pretrained,
        )
    if start.vectors is not None and not resuming:
        encoder = task.net.encoder
        rows = initialise_embeddings(
            encoder.get_input_embeddings(),
            start.vectors,
            str(start.vectors_dir),
            f"model.encoder.{encoder.embedding_size_key}",
            cfg.model.get("embeddings_scale", "raw"),
        )
        log.info(
            "Token embeddings: %d of %d rows from the word vectors in %s",
            rows,
            len(start.vectors.covered),
            start.vectors_dir,
        )
