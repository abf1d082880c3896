"""Neural rendering: the exported Pix2pixHD generator at run time (ONNX Runtime, never torch)."""
