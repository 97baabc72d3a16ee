"""The bundle's entry point: the `bandeau` command, as the console script runs it."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
