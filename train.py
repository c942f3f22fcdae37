"""Train an encoder: `python train.py model=bert_small data=sst2 [key=value ...]` (Hydra; `-m` for sweeps)."""

from encoderlab.cli.train import main

if __name__ == "__main__":
    main()
