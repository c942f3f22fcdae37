"""The offline W&B reader lives in the package (the comparison report uses it); tests import it from here."""

from encoderlab.report.wandb_offline import records, run_contents

__all__ = ["records", "run_contents"]
