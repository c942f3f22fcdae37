"""Records and comparisons: where a record comes from (`provenance`), a sweep's run dirs tabulated and plotted
(`encoderlab-compare`), label curves, figures of one model, and the offline W&B reader.

May import: `errors` only (everything else reads report, not the other way round)."""
