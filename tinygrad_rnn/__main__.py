"""``python -m tinygrad_rnn <command>``: the command line of :mod:`tinygrad_rnn.cli`."""
import sys

from tinygrad_rnn.cli import main

if __name__ == "__main__":
    sys.exit(main())
