"""Offline half of livedance: song analysis, dataset preparation, training, export, metrics.

May import heavy libraries (librosa, mediapipe, torch); the live runtime never imports this
package at show time, only the CLI does, lazily.
"""
