"""Beat Alignment Score of livedance's choreography on real songs.

BAS as defined by FACT / AI Choreographer (Li et al. 2021) and used by Bailando: the dance is
sampled at 60 fps, the kinetic velocity is the mean keypoint speed (smoothed with a Gaussian of
5 frames, as Bailando does), motion beats are its local minima, and

    BAS = mean over motion beats of exp(-d^2 / (2 sigma^2)),  sigma = 3 frames = 50 ms,

with d the distance to the nearest music beat. Music beats are found by librosa's beat tracker
on the audio, independently of how the choreography was built. Bailando's variant (mean over
music beats of the distance to the nearest motion beat) is reported beside it.

Usage:
    python benchmarks/bench_bas.py ../shared/data/music/*.ogg --out benchmarks/results/bas.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import librosa
import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

from livedance.songs import dance_song, open_audio
from offline.analysis import analyze_file

FPS = 60
SIGMA_FRAMES = 3
PUBLISHED = {"real dancers (AIST++)": 0.2374, "Bailando": 0.2332, "FACT": 0.2209}


def motion_beats_s(poses: np.ndarray, fps: float = FPS) -> np.ndarray:
    """Local minima of the smoothed mean keypoint speed, in seconds."""
    xy = poses[:, :, :2].astype(np.float64)
    speed = np.linalg.norm(np.diff(xy, axis=0), axis=2).mean(axis=1)
    speed = gaussian_filter1d(speed, 5)
    (minima,) = argrelextrema(speed, np.less)
    return (minima + 1) / fps


def beat_alignment(motion_s: np.ndarray, music_s: np.ndarray, sigma_s: float) -> float:
    """Mean over ``motion_s`` of exp(-d^2 / 2 sigma^2), d the distance to the nearest music beat."""
    if len(motion_s) == 0 or len(music_s) == 0:
        return 0.0
    d = np.abs(motion_s[:, None] - music_s[None, :]).min(axis=1)
    return float(np.mean(np.exp(-(d**2) / (2 * sigma_s**2))))


def score_song(path: Path, seed: int) -> dict[str, float | int | str]:
    t0 = time.perf_counter()
    audio, name = open_audio(path)
    plan = analyze_file(path, use_cache=False)
    song = dance_song(audio, name, plan=plan, seed=seed)
    times = np.arange(0.0, audio.duration_s, 1 / FPS)
    poses = np.stack([song.choreographer.pose_at(t) for t in times])
    y = audio.mono()
    _, frames = librosa.beat.beat_track(y=y, sr=audio.sample_rate, units="time")
    music = np.asarray(frames, dtype=np.float64)
    motion = motion_beats_s(poses)
    sigma_s = SIGMA_FRAMES / FPS
    return {
        "song": path.name,
        "duration_s": round(audio.duration_s, 2),
        "tempo_bpm": round(song.tempo_bpm, 1),
        "beat_source": song.source,
        "music_beats": len(music),
        "motion_beats": len(motion),
        "bas": round(beat_alignment(motion, music, sigma_s), 4),
        "bas_bailando_variant": round(beat_alignment(music, motion, sigma_s), 4),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def markdown(result: dict) -> str:
    """The README table: BAS per song (mean over seeds) beside the published values."""
    lines = [
        f"Command: `{result['command']}`",
        "",
        "| song | tempo (BPM) | BAS (mean over seeds) | Bailando's variant |",
        "| --- | --- | --- | --- |",
    ]
    songs: dict[str, list[dict]] = {}
    for row in result["rows"]:
        songs.setdefault(row["song"], []).append(row)
    for name, rows in songs.items():
        bas = np.mean([r["bas"] for r in rows])
        variant = np.mean([r["bas_bailando_variant"] for r in rows])
        lines.append(f"| {name} | {rows[0]['tempo_bpm']} | {bas:.4f} | {variant:.4f} |")
    lines.append(
        f"| **livedance, mean** | | **{result['mean_bas']:.4f}** | {result['mean_bas_bailando_variant']:.4f} |"
    )
    for name, value in result["published_reference"].items():
        lines.append(f"| {name} (published) | | {value:.4f} | |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("songs", nargs="+", type=Path)
    parser.add_argument(
        "--seeds", type=int, default=3, help="choreography seeds per song (default 3)"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bas.json"))
    args = parser.parse_args()
    rows = [score_song(p, seed) for p in args.songs for seed in range(args.seeds)]
    mean_bas = float(np.mean([r["bas"] for r in rows]))
    result = {
        "command": "python " + " ".join(sys.argv),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "fps": FPS,
        "sigma_frames": SIGMA_FRAMES,
        "mean_bas": round(mean_bas, 4),
        "mean_bas_bailando_variant": round(
            float(np.mean([r["bas_bailando_variant"] for r in rows])), 4
        ),
        "published_reference": PUBLISHED,
        "beats_real_dancers": mean_bas > PUBLISHED["real dancers (AIST++)"],
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    for r in rows:
        print(
            f"{r['song']:45s} bas {r['bas']:.4f}  (bailando variant {r['bas_bailando_variant']:.4f})"
        )
    print(
        f"mean BAS {mean_bas:.4f} vs real dancers {PUBLISHED['real dancers (AIST++)']}; wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
