"""`python -m livedance` runs the command line."""

from livedance.cli import run

run()
