"""Full-reference pixel metrics of the quality table: MSE, PSNR, SSIM and MS-SSIM (numpy, OpenCV).

Part of the OFFLINE ``model --evaluate-> quality table`` step of DESIGN.md. Every function takes two
uint8 (or float 0..255) images of the same shape ``(h, w)`` or ``(h, w, c)`` and returns a float.

Conventions (those of the paper's Table I and of scikit-image / Wang et al.):
- MSE: mean squared difference over all pixels and channels on the 0..255 scale.
- PSNR: ``10 log10(255^2 / MSE)`` dB; identical images give ``inf`` (`PSNR_CAP_DB` caps it when
  averaging over frames).
- SSIM: Gaussian window 11x11 (sigma 1.5, ``truncate=3.5``), K1 0.01, K2 0.03, data range 255,
  population covariances, computed PER CHANNEL and averaged, the mean taken over the pixels whose
  window lies inside the image -- exactly ``skimage.metrics.structural_similarity(a, b,
  channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
  data_range=255)``.
- MS-SSIM: 5 scales with weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333) (Wang, Simoncelli and
  Bovik 2003); 2x2 average pooling between scales; contrast-structure at the first four scales and
  full SSIM at the last, each clamped at 0 before the power (as pytorch-msssim), per channel, then
  averaged over channels. Needs a side of at least 11 * 2^4 = 176 pixels.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

DATA_RANGE = 255.0
PSNR_CAP_DB = 100.0
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # radius int(3.5 * 1.5 + 0.5) = 5 -> an 11x11 window, as skimage
SSIM_K1, SSIM_K2 = 0.01, 0.03
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SSIM_WINDOW_PX = 2 * int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5) + 1
MS_SSIM_MIN_SIDE_PX = SSIM_WINDOW_PX * 2 ** (len(MS_SSIM_WEIGHTS) - 1)  # 176

ImageArray = npt.NDArray[np.generic]


def _pair(a: ImageArray, b: ImageArray) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.shape != y.shape:
        raise ValueError(f"images differ in shape: {x.shape} vs {y.shape}")
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    if x.ndim != 3:
        raise ValueError(f"expected (h, w) or (h, w, c) images, got shape {x.shape}")
    return x, y


def mse(a: ImageArray, b: ImageArray) -> float:
    """Mean squared pixel difference on the 0..255 scale.

    Args:
        a, b: images of the same shape, 0..255.

    Returns:
        the MSE (0 for identical images).
    """
    x, y = _pair(a, b)
    return float(np.mean((x - y) ** 2))


def psnr(a: ImageArray, b: ImageArray) -> float:
    """Peak signal-to-noise ratio in dB (``inf`` for identical images).

    Args:
        a, b: images of the same shape, 0..255.

    Returns:
        ``10 log10(255^2 / MSE)``.
    """
    return psnr_from_mse(mse(a, b))


def psnr_from_mse(mse_value: float) -> float:
    """PSNR in dB of an MSE on the 0..255 scale (``inf`` for 0)."""
    return float("inf") if mse_value == 0 else float(10.0 * np.log10(DATA_RANGE**2 / mse_value))


def _ssim_maps(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """SSIM and contrast-structure maps of one channel, cropped to the windows inside the image."""

    kernel = cv2.getGaussianKernel(SSIM_WINDOW_PX, SSIM_SIGMA, cv2.CV_64F)

    def blur(img: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        # the same separable normalised Gaussian as scipy's gaussian_filter (what skimage uses),
        # 6x faster; the border mode never matters since the border is cropped below
        return cv2.sepFilter2D(
            np.ascontiguousarray(img), cv2.CV_64F, kernel, kernel, borderType=cv2.BORDER_REFLECT
        )

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov_xy = blur(x * y) - mu_x * mu_y
    c1, c2 = (SSIM_K1 * DATA_RANGE) ** 2, (SSIM_K2 * DATA_RANGE) ** 2
    cs = (2 * cov_xy + c2) / (var_x + var_y + c2)
    ssim = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1) * cs
    pad = (SSIM_WINDOW_PX - 1) // 2
    inner = (slice(pad, x.shape[0] - pad), slice(pad, x.shape[1] - pad))
    return ssim[inner], cs[inner]


def ssim(a: ImageArray, b: ImageArray) -> float:
    """Structural similarity (Gaussian 11x11, sigma 1.5), mean over channels; 1 when identical.

    Args:
        a, b: images of the same shape, 0..255, each side at least 11 pixels.

    Returns:
        the mean SSIM, in [-1, 1].
    """
    x, y = _pair(a, b)
    if min(x.shape[:2]) < SSIM_WINDOW_PX:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW_PX} px a side")
    return float(np.mean([_ssim_maps(x[..., c], y[..., c])[0].mean() for c in range(x.shape[2])]))


def _halve(img: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """2x2 average pooling (an odd last row/column is dropped, as avg_pool2d without padding)."""
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    return 0.25 * (img[0:h:2, 0:w:2] + img[1:h:2, 0:w:2] + img[0:h:2, 1:w:2] + img[1:h:2, 1:w:2])


def ms_ssim(a: ImageArray, b: ImageArray) -> float:
    """Multi-scale SSIM over 5 scales with the standard weights; 1 when identical.

    Args:
        a, b: images of the same shape, 0..255, each side at least 176 pixels.

    Returns:
        the MS-SSIM, in [0, 1].
    """
    return ssim_and_ms_ssim(a, b)[1]


def ssim_and_ms_ssim(a: ImageArray, b: ImageArray) -> tuple[float, float]:
    """`ssim` and `ms_ssim` at once (the first MS-SSIM scale is the SSIM computation).

    Args:
        a, b: images of the same shape, 0..255, each side at least 176 pixels.

    Returns:
        ``(ssim, ms_ssim)``.
    """
    x, y = _pair(a, b)
    n_scales = len(MS_SSIM_WEIGHTS)
    if min(x.shape[:2]) < MS_SSIM_MIN_SIDE_PX:
        raise ValueError(
            f"MS-SSIM needs images of at least {MS_SSIM_MIN_SIDE_PX} px a side, got {x.shape}"
        )
    weights = np.array(MS_SSIM_WEIGHTS)
    per_channel, ssim_per_channel = [], []
    for c in range(x.shape[2]):
        xc, yc = x[..., c], y[..., c]
        values = []
        for scale in range(n_scales):
            ssim_map, cs_map = _ssim_maps(xc, yc)
            if scale == 0:
                ssim_per_channel.append(float(ssim_map.mean()))
            last = scale == n_scales - 1
            values.append(max(0.0, float((ssim_map if last else cs_map).mean())))
            if not last:
                xc, yc = _halve(xc), _halve(yc)
        per_channel.append(float(np.prod(np.power(values, weights))))
    return float(np.mean(ssim_per_channel)), float(np.mean(per_channel))
