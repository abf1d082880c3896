"""The learned beat activation, offline half: training data from the beat-set generator
(`data`), the causal TCN and its streaming ONNX export (`model`), training (`train`, also the
command ``python -m offline.beatnet.train``). The live half is `livedance.audio.activation`."""
