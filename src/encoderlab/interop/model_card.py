"""The model card (`README.md`) of an `encoderlab-export --hf` folder: what it was trained on, how well it did, the
command and commit that made it, how to load it, and its limits. Facts come from the run's `summary.json` (beside
`checkpoints/`) and the checkpoint; what is unknown says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def run_summary(checkpoint: str | Path) -> dict[str, Any] | None:
    """The `summary.json` of the run that wrote `checkpoint` (`<run>/checkpoints/<name>.ckpt`), if it is there."""
    path = Path(checkpoint).resolve().parent.parent / "summary.json"
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


def _metrics_table(metrics: dict[str, Any]) -> list[str]:
    shown = {k: v for k, v in sorted(metrics.items()) if k.split("/")[0] in ("val", "test") and "/" in k}
    if not shown:
        return ["No validation or test metrics were recorded."]
    rows = ["| metric | value |", "|---|---|"]
    rows += [f"| `{name}` | {value:.4f} |" if isinstance(value, float) else f"| `{name}` | {value} |"
             for name, value in shown.items()]  # fmt: skip
    return rows


def model_card(
    checkpoint: str | Path,
    summary: dict[str, Any] | None,
    hparams: dict[str, Any],
    hf_class: str,
    head_note: str,
) -> str:
    """The card's Markdown, with the YAML header the HF hub reads."""
    summary = summary or {}
    data = summary.get("data", "unknown (no summary.json beside the checkpoint's folder)")
    model = hparams.get("model", {}).get("name") or summary.get("model", "unknown")
    labels = list(hparams.get("label_names") or [])
    pipeline = "text-classification" if hf_class == "BertForSequenceClassification" else "feature-extraction"
    loader = "AutoModelForSequenceClassification" if pipeline == "text-classification" else "AutoModel"
    lines = [
        "---",
        "library_name: transformers",
        f"pipeline_tag: {pipeline}",
        "tags: [encoderlab, bert]",
        "---",
        "",
        f"# {model} fine-tuned on {data}",
        "",
        f"A `{hf_class}` exported by `encoderlab-export --hf` from `{checkpoint}`. {head_note}",
        "",
        "## Data",
        "",
        f"- data set: `{data}`; training examples: {summary.get('train_examples', 'unknown')}",
        f"- labels: {', '.join(f'`{name}`' for name in labels) if labels else 'none recorded'}",
        f"- tokenizer: WordPiece trained on the training split only ({hparams.get('vocab_size', '?')} tokens)",
        "",
        "## Metrics",
        "",
        *_metrics_table(summary.get("metrics") or {}),
        "",
        f"Epochs: {summary.get('epochs', '?')}, steps: {summary.get('global_steps', '?')}, "
        f"seed: {summary.get('seed', '?')}, precision: {summary.get('precision', '?')}, "
        f"device: {summary.get('device', '?')}.",
        "",
        "## How it was made",
        "",
        "```bash",
        str(summary.get("command", "unknown (no summary.json)")),
        "```",
        "",
        f"Commit: `{summary.get('commit', 'unknown')}`; parameters: {summary.get('params_total', '?')}.",
        "",
        "## How to load it",
        "",
        "```python",
        f"from transformers import AutoTokenizer, {loader}",
        f'model = {loader}.from_pretrained("<this folder>")',
        'tokenizer = AutoTokenizer.from_pretrained("<this folder>")',
        "```",
        "",
        "## Limits",
        "",
        f"- Trained and evaluated on `{data}` only: the figures above say nothing about other domains or languages.",
        "- The tokenizer was trained from scratch on that data; words it never saw split into pieces or `[UNK]`.",
        f"- Inputs longer than {hparams.get('model', {}).get('encoder', {}).get('max_position', '?')} tokens are "
        "cut (the checkpoint's encoding spec, in the ONNX folder's config.json, says how training cut them).",
        "- Not checked for bias, fairness or robustness to adversarial inputs; do not use it for decisions about "
        "people.",
        "",
    ]
    return "\n".join(lines)
