"""Tests of sluice_pipe: ``python3 -m unittest discover -s python/tests -t python`` from the repository root."""
