"""Measurements of this machine: its CPU, and how fast a renderer runs on it.

Used by `livedance bench`, the benchmarks under ``benchmarks/``, and every timing the tools print
(the CPU's speed flags beside it).
"""
