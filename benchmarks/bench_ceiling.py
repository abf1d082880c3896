"""How close does any training frame come to the test frames? A ceiling for the quality table.

For each test frame of a prepared dataset, the training frame that looks most like it (an oracle
that sees the test frame itself: 16 candidates by the mean squared difference of 64x64 grey
thumbnails, then the best by SSIM) and its SSIM and MS-SSIM. A generator that only redraws what
it was shown cannot be expected to beat a copy of the training frame nearest to the answer by
much; where the camera moves (pans and zooms), no training frame shows the test frames' view,
and this ceiling says how far the paper's figures (measured on a still-camera video) are out of
reach. With ``--picture``, three test frames beside their oracle frames (frames of the video:
keep the picture out of the repository).

    python benchmarks/bench_ceiling.py DATA_DIR [--out benchmarks/results/ceiling.json] \
        [--picture /tmp/ceiling.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from offline.metrics.image import ssim_and_ms_ssim
from offline.prepare.manifest import load_manifest, read_index

CANDIDATES = 16


def _thumb(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path, help="a dataset made by `livedance prepare`")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ceiling.json"))
    parser.add_argument("--picture", type=Path, help="write test | oracle frame pairs here")
    args = parser.parse_args()
    manifest = load_manifest(args.data_dir)
    rows = read_index(args.data_dir)
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    train_images = [cv2.imread(str(args.data_dir / r["frame"])) for r in train]
    thumbs = np.stack([_thumb(im) for im in train_images])
    scores, pairs = [], []
    for k, row in enumerate(tqdm(test, desc="test frames", unit="frame")):
        target = cv2.imread(str(args.data_dir / row["frame"]))
        distance = ((thumbs - _thumb(target)) ** 2).mean(axis=(1, 2))
        candidates = np.argsort(distance)[:CANDIDATES]
        ssims = [ssim_and_ms_ssim(train_images[i], target) for i in candidates]
        best = int(np.argmax([s[0] for s in ssims]))
        scores.append(ssims[best])
        if k in (0, len(test) // 2, len(test) - 1):
            pairs.append(np.hstack([target, train_images[candidates[best]]]))
    ssim = float(np.mean([s[0] for s in scores]))
    ms_ssim = float(np.mean([s[1] for s in scores]))
    result = {
        "command": f"python benchmarks/bench_ceiling.py {args.data_dir}",
        "dataset": str(manifest.source.get("path", args.data_dir)),
        "train_frames": len(train),
        "test_frames": len(test),
        "oracle_nearest_training_frame": {"ssim": round(ssim, 4), "ms_ssim": round(ms_ssim, 4)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    if args.picture:
        cv2.imwrite(str(args.picture), np.vstack(pairs))
        print(f"test frame | oracle training frame: {args.picture}")


if __name__ == "__main__":
    main()
