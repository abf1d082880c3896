"""livedance: a real-time engine that makes a realistic person dance to music, on the beat."""

__version__ = "0.1.0"
