"""Speed benchmark against the peers: `encoderlab bench --size small --cases mlm,lstm` (or `make bench`).

Each case runs the peer and ours in this process on the same batch, precision and optimizer, and reports tokens/s,
MFU (CUDA, bf16), peak memory and the ratio ours/peer; JSON and a Markdown table go to `results/bench/`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import torch

from encoderlab.bench.cases import KINDS, SHAPES, SIZES, CaseResult, case_name, run_case
from encoderlab.bench.flops import device_peak_flops
from encoderlab.bench.report import environment, markdown_table, write
from encoderlab.bench.steps import Settings
from encoderlab.cli.commands import command_parser
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.hardware.precision import cpu_has_native_bf16

log = logging.getLogger("encoderlab.bench")
# warm-up and timed steps per size; compiling (and autotuning) happens in the warm-up
STEPS = {"tiny": (1, 2), "small": (2, 5), "full": (10, 30)}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("bench", __doc__)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", choices=SIZES, default=None, help="default: full on CUDA, small on CPU")
    parser.add_argument("--cases", default=",".join(KINDS), help=f"comma-separated, from {', '.join(KINDS)}")
    parser.add_argument(
        "--precision",
        choices=("bf16", "fp32", "both"),
        default=None,
        help="default: bf16 where the device computes it natively (CUDA Ampere+, CPUs with AMX or AVX512-BF16); "
        "both: every contender in each, the ratio between each side's fastest",
    )
    parser.add_argument("--no-compile", dest="compile", action="store_false", help="eager contenders only")
    parser.add_argument("--compile-mode", default=None, help="ours; default: max-autotune on CUDA, default on CPU")
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=1, help="repeat each case; every contender keeps its best round")
    parser.add_argument("--peak-tflops", type=float, default=None, help="device peak for MFU (known GPUs: looked up)")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (a .md table is written beside it)")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace, device: torch.device, size: str) -> Settings:
    on_cuda = device.type == "cuda"
    native_bf16 = torch.cuda.is_bf16_supported() if on_cuda else cpu_has_native_bf16()
    precision = args.precision if args.precision not in (None, "both") else ("bf16" if native_bf16 else "fp32")
    warmup, steps = STEPS[size]
    peak = args.peak_tflops * 1e12 if args.peak_tflops else device_peak_flops(device, precision)
    return Settings(
        device=device,
        precision=precision,
        compile=args.compile,
        compile_mode=args.compile_mode or ("max-autotune" if on_cuda else None),
        warmup=args.warmup if args.warmup is not None else warmup,
        steps=args.steps if args.steps is not None else steps,
        peak_flops=peak,
    )


def precisions_of(args: argparse.Namespace, settings: Settings) -> list[str]:
    return ["bf16", "fp32"] if args.precision == "both" else [settings.precision]


def run_in_precisions(kind: str, shape: dict, settings: Settings, precisions: list[str], rounds: int) -> CaseResult:
    """The case's contenders in each precision (named `... bf16`, `... fp32` when there are several), each keeping
    its fastest of `rounds` rounds; the ratio then pits each side's fastest setting against the other's."""
    merged: CaseResult | None = None
    for precision in precisions:
        run_settings = replace(settings, precision=precision)
        case = run_case(kind, shape, run_settings)
        for _ in range(rounds - 1):
            case = case.keep_fastest(run_case(kind, shape, run_settings))
        if len(precisions) > 1:
            case.measurements = [replace(m, name=f"{m.name} {precision}") for m in case.measurements]
        if merged is None:
            merged = case
        else:
            merged.measurements += case.measurements
    assert merged is not None
    return merged


def main(argv: Sequence[str] | None = None) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda but torch sees no CUDA GPU here")
    kinds = [k.strip() for k in args.cases.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise SystemExit(f"error: unknown case(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}")
    size = args.size or ("full" if device.type == "cuda" else "small")
    settings = settings_from(args, device, size)
    # Denormal floats (tiny gradients) slow CPU matmuls by orders of magnitude for whichever side happens to make them.
    torch.set_flush_denormal(True)
    if device.type == "cuda":
        torch.set_float32_matmul_precision("high")  # fp32 runs use TF32 tensor cores too, for both sides
    record = {
        **environment(device),
        "size": size,
        "settings": {
            "precision": "bf16+fp32" if args.precision == "both" else settings.precision,
            "compile": settings.compile,
            "compile_mode_ours": settings.compile_mode,
            "compile_mode_peer": settings.peer_compile_mode,
            "fused_adamw": bool(settings.fused_optimizer),
            "flush_denormal": True,
            "rounds": args.rounds,
            "warmup_steps": settings.warmup,
            "timed_steps": settings.steps,
            "peak_tflops": settings.peak_flops / 1e12 if settings.peak_flops else None,
        },
        "cases": [],
        "complete": False,
    }
    out = args.out or Path("results/bench") / f"{size}_{device.type}.json"
    started = time.perf_counter()
    for kind in kinds:
        for shape in SHAPES[kind][size]:
            log.info("bench: %s", case_name(kind, shape))
            case = run_in_precisions(kind, shape, settings, precisions_of(args, settings), args.rounds)
            result = case.to_dict()
            record["cases"].append(result)
            for m in result["measurements"]:
                log.info("  %-45s %12.0f tokens/s %s", m["name"], m["tokens_per_sec"], m["error"] or "")
            # after every case, so a run stopped by a time limit (scripts/gpu_evidence.sh) keeps what it measured
            record["wall_time_sec"] = round(time.perf_counter() - started, 1)
            write(record, out)
    record["wall_time_sec"] = round(time.perf_counter() - started, 1)
    record["complete"] = True
    write(record, out)
    print(markdown_table(record))
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return record


@one_line_errors
def cli(argv: Sequence[str] | None = None) -> int:
    """`encoderlab bench`: `main` for the command line, which wants an exit code rather than the record."""
    main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
