"""What the machine can do: CPU features, the precision that fits them, thread counts.

May import: torch and Lightning's precision plugins only."""
