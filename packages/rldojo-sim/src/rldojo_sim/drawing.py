"""Small top-down pictures of scenes (``uint8 [H, W, 3]``), drawn with numpy for ``rgb_array`` rendering.

Each area is drawn on a ``TILE`` x ``TILE`` canvas whose coordinates run from -1 to 1 on both axes
(x to the right, y up); ``mosaic`` puts the areas of a scene side by side. Sizes are multiples of 16,
so video encoders take the frames as they are.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TILE", "Canvas", "fit_image", "mosaic"]

TILE = 64
"""Side of one area's picture in pixels."""

BACKGROUND = (30, 30, 30)


class Canvas:
    """A square picture with drawing primitives in unit coordinates (-1 .. 1, y up)."""

    def __init__(self, size: int = TILE, background: tuple[int, int, int] = BACKGROUND):
        self.pixels = np.empty((size, size, 3), dtype=np.uint8)
        self.pixels[:] = background
        centres = (np.arange(size) + 0.5) / size * 2.0 - 1.0
        self._x = centres[None, :]
        self._y = -centres[:, None]

    def rectangle(
        self, left: float, bottom: float, right: float, top: float, color: tuple[int, int, int]
    ) -> Canvas:
        inside = (self._x >= left) & (self._x <= right) & (self._y >= bottom) & (self._y <= top)
        self.pixels[inside] = color
        return self

    def disk(self, x: float, y: float, radius: float, color: tuple[int, int, int]) -> Canvas:
        self.pixels[(self._x - x) ** 2 + (self._y - y) ** 2 <= radius**2] = color
        return self


def fit_image(image: np.ndarray, size: int = TILE) -> np.ndarray:
    """``uint8 [H, W, 3]`` scaled up by a whole factor to fit, centred on a ``size`` x ``size`` canvas."""
    height, width = image.shape[:2]
    factor = max(1, size // max(height, width))
    scaled = image.repeat(factor, axis=0).repeat(factor, axis=1)[:size, :size]
    canvas = Canvas(size).pixels
    top, left = (size - scaled.shape[0]) // 2, (size - scaled.shape[1]) // 2
    canvas[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    return canvas


def mosaic(tiles: list[np.ndarray]) -> np.ndarray:
    """The tiles (same size) in a near-square grid, row by row; empty cells stay black."""
    columns = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    height, width, _ = tiles[0].shape
    frame = np.zeros((rows * height, columns * width, 3), dtype=np.uint8)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        frame[row * height : (row + 1) * height, column * width : (column + 1) * width] = tile
    return frame
