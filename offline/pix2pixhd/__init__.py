"""Pix2pixHD training and export (torch): stick figure -> realistic frame (DESIGN.md)."""
