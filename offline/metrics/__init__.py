"""Quality metrics of the paper's Table I and the ``evaluate`` step of DESIGN.md's offline flow.

`image` (MSE, PSNR, SSIM, MS-SSIM; numpy, OpenCV), `lpips` (LPIPS AlexNet v0.1 with the real
weights; torch), `keypoints` (pose re-detection with MediaPipe, nearest-pose baseline), `table`
(per-frame scoring and the printed table) and `evaluate` (model on a dataset's test split, or two
folders of images). Importing this package loads neither torch nor MediaPipe.
"""

from offline.metrics.image import PSNR_CAP_DB, ms_ssim, mse, psnr, ssim

__all__ = ["PSNR_CAP_DB", "ms_ssim", "mse", "psnr", "ssim"]
