"""Command-line entry points: argument parsing and one-line errors around the library rooms.

May import: any room; nothing imports `cli`."""
