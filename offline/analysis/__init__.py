"""Offline song analysis: beats, per-beat features and every repeated section (the song plan).

The "Audio analysis" section of the paper (IV), done for a whole song ahead of the show:

- `beats`: librosa's dynamic-programming beat tracker, tempo drift and metrical level handled;
- `features`: RMS (dBFS) and spectral centroid (Hz) over each beat interval;
- `selfsim`: beat-synchronous chroma, the time-time and time-lag similarity matrices, denoising;
- `lines`: every horizontal line of the time-lag matrices (all 12 transpositions): the repeats;
- `sections`: repeat lines to a labelled section list (A, B, A, C, B ...);
- `boundaries`: where those sections start and end (line ends, novelty peaks, cuts in repeats);
- `structure`: the structure step on a grid independent of the dancer's metrical level;
- `pipeline`: `analyze_audio` / `analyze_file` (cached by content hash) -> `SongPlan`;
- `plot`: the figure of ``livedance analyze --plot``.
"""

from offline.analysis.pipeline import (
    ANALYSIS_VERSION,
    SongAnalysis,
    analyze_audio,
    analyze_file,
    analyze_song,
    plan_cache_dir,
)

__all__ = [
    "ANALYSIS_VERSION",
    "SongAnalysis",
    "analyze_audio",
    "analyze_file",
    "analyze_song",
    "plan_cache_dir",
]
