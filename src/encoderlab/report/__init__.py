"""Comparing finished runs without a W&B account: read a sweep's run dirs, tabulate, plot (`encoderlab-compare`)."""
