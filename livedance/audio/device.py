"""The sound card: sounddevice (PortAudio) imported once, with one clear error when it is missing.

The bottom of the audio layer: the file player (`livedance.audio.player`), the line-in
(`livedance.audio.linein`) and `livedance devices` open devices through `import_sounddevice`.
"""

from __future__ import annotations

from typing import Any

from livedance.errors import LivedanceError

NO_AUDIO_HINT = (
    "see `livedance devices`, or use --mute (window, no sound) or --headless --record OUT.mp4"
)


def import_sounddevice() -> Any:
    """Import sounddevice, turning a missing PortAudio library into a clear error."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is absent
        raise LivedanceError(
            f"audio is unavailable: {exc} (install PortAudio, e.g. `apt install libportaudio2`); "
            + NO_AUDIO_HINT
        ) from None
    return sounddevice
