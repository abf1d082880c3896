"""The figure of ``livedance analyze --plot``: what the analysis heard, in the paper's Fig. 5 style.

Four rows: the waveform with its beats (and bar lines), the time-lag matrix before and after
denoising with the detected repeat lines drawn on the denoised one, and a coloured section bar.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from livedance.errors import LivedanceError
from offline.analysis.pipeline import SongAnalysis

_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7")


def plot_analysis(analysis: SongAnalysis, path: str | Path, *, title: str = "") -> None:
    """Draw the analysis into a PNG.

    Args:
        analysis: from `offline.analysis.analyze_song`.
        path: output image path (the format follows the suffix, PNG recommended).
        title: heading, e.g. the file name.

    Raises:
        LivedanceError: matplotlib is not installed, or the image cannot be written.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle
    except ImportError:
        raise LivedanceError("--plot needs matplotlib: pip install matplotlib") from None

    plan = analysis.plan
    duration_s = plan.audio.duration_s
    fig, axes = plt.subplots(
        4, 1, figsize=(13, 11), gridspec_kw={"height_ratios": [1.2, 2.2, 2.2, 0.5]}, sharex=True
    )
    wave_ax, raw_ax, den_ax, bar_ax = axes
    y = analysis.y
    step = max(1, len(y) // 20000)
    envelope = np.abs(y[: len(y) // step * step]).reshape(-1, step).max(axis=1)
    t = np.arange(len(envelope)) * step / analysis.sr
    wave_ax.fill_between(t, -envelope, envelope, color="#888888", linewidth=0)
    wave_ax.vlines(plan.beat_times_s, -1, 1, color="#e15759", linewidth=0.6, alpha=0.7)
    wave_ax.vlines(plan.downbeat_times_s, -1, 1, color="#4e79a7", linewidth=1.4)
    wave_ax.set_ylim(-1.05, 1.05)
    wave_ax.set_ylabel("waveform")
    wave_ax.set_title(
        f"{title}   {plan.tempo_bpm:.1f} BPM, {len(plan.beat_times_s)} beats"
        + ("  (default grid)" if plan.extra.get("default_grid") else ""),
        loc="left",
    )
    found = analysis.structure
    if found.lag_analyses:
        frame_s = found.frame_times_s
        # Lags are drawn in seconds at the structure grid's median beat period (frames are per
        # structure beat).
        lag_scale_s = float(np.median(np.diff(found.grid_times_s)))
        n = len(frame_s)
        extent = (frame_s[0], plan.beat_times_s[-1], 0.0, n / found.per_beat * lag_scale_s)
        base = found.lag_analyses[0]
        raw = np.where(np.tri(n, dtype=bool).T, base.lag_matrix, np.nan)
        raw_ax.imshow(raw, origin="lower", aspect="auto", extent=extent, cmap="magma")
        raw_ax.set_ylabel("lag (s)")
        raw_ax.set_title("time-lag similarity T[x, l] = f(x, x - l)", loc="left", fontsize=10)
        den = np.max([a.emphasized for a in found.lag_analyses], axis=0)
        den_ax.imshow(
            np.where(np.tri(n, dtype=bool).T, den, np.nan), origin="lower", aspect="auto",
            extent=extent, cmap="magma", vmax=max(1e-6, float(np.percentile(den, 99.8))),
        )  # fmt: skip
        beats = np.asarray(found.grid_times_s)
        notes = dict(zip(map(id, found.kept_lines), found.line_notes, strict=False))
        for line in found.lines:
            x0, x1 = beats[line.start_beat], beats[min(line.end_beat, len(beats) - 1)]
            lag_s = line.lag_beats * lag_scale_s
            # solid: a repeat; dashed: kept but no section came of it (and why); dotted: unused
            # (implied by a kept line, or a loop: `sections.select_lines`)
            kept, note = id(line) in notes, notes.get(id(line))
            style = ":" if not kept else "--" if note else "-"
            den_ax.plot([x0, x1], [lag_s, lag_s], style, color="#59ff59", linewidth=2)
            label = f" {line.shift:+d} st" if line.shift else ""
            if note:
                label += f" dropped: {note}"
            if label:
                den_ax.text(x0, lag_s, label, color="#59ff59", fontsize=8)
        den_ax.set_ylabel("lag (s)")
        den_ax.set_title(
            "denoised (all 12 transpositions), repeat lines: solid = a repeated section,"
            " dashed = kept but dropped (why), dotted = unused (implied by another, or a"
            " groove looping in one section)",
            loc="left", fontsize=10,
        )  # fmt: skip
    else:
        for ax in (raw_ax, den_ax):
            ax.text(0.5, 0.5, "too few beats for a similarity matrix", ha="center",
                    transform=ax.transAxes)  # fmt: skip
    colours: dict[str, str] = {}
    for i, section in enumerate(plan.sections):
        colour = colours.setdefault(section.label, _COLOURS[len(colours) % len(_COLOURS)])
        bar_ax.add_patch(
            Rectangle((section.start_s, 0), section.end_s - section.start_s, 1, color=colour,
                      ec="white", linewidth=1.5)
        )  # fmt: skip
        name = section.label + ("'" if section.repeats is not None else "")
        shifts = plan.extra.get("section_key_shifts", [])
        if i < len(shifts) and shifts[i]:
            name += f" {((shifts[i] + 6) % 12) - 6:+d}"
        bar_ax.text((section.start_s + section.end_s) / 2, 0.5, name, ha="center",
                    va="center", color="white", fontsize=11, fontweight="bold")  # fmt: skip
    if len(found.novelty) and len(found.grid_times_s) == len(found.novelty) + 1:
        # the Foote novelty the boundaries without repeat lines come from, peak at the top
        bar_ax.plot(found.grid_times_s[:-1], found.novelty, color="black", linewidth=1)
    bar_ax.set_ylim(0, 1)
    bar_ax.set_yticks([])
    bar_ax.set_ylabel("sections")
    bar_ax.set_xlim(0, duration_s)
    bar_ax.set_xlabel("time (s)")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=90)
    except OSError as exc:
        raise LivedanceError(f"{path}: cannot write the plot ({exc})") from None
    finally:
        plt.close(fig)
