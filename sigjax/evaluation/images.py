"""Sample grids for image models."""

import numpy as np


def image_grid(images: np.ndarray, *, columns: int = 8) -> np.ndarray:
  """[N, H, W, C] in [-1, 1] -> one uint8 [rows*H, columns*W, C] image."""
  images = np.asarray(images)
  n, h, w, c = images.shape
  rows = -(-n // columns)
  pad = rows * columns - n
  if pad:
    images = np.concatenate([images, np.full((pad, h, w, c), -1.0, images.dtype)])
  grid = images.reshape(rows, columns, h, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, columns * w, c)
  return np.clip((grid + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
