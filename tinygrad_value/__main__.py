"""``python -m tinygrad_value ...``: the command line lives in ``show/cli.py``."""

from .show.cli import run

if __name__ == "__main__":
    run()
