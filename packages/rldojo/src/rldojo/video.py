"""Videos of rendered frames, streamed to ffmpeg by moviepy (``rldojo evaluate --video``).

Frames are ``uint8 [H, W, 3]`` pictures of equal size; they are encoded as they come (H.264 for
``.mp4``, the container chosen by the file's extension), so a long evaluation holds no frames in
memory. moviepy is the optional extra ``rldojo[video]``; it runs the ffmpeg binary that
imageio-ffmpeg ships, so no system ffmpeg is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rldojo.errors import ConfigError

__all__ = ["VIDEO_FPS", "VideoRecorder"]

VIDEO_FPS = 25
"""Frames per second: one frame per decision, as Gymnasium's ``RecordVideo`` of the rldojo/ ids."""


class VideoRecorder:
    """Writes frames to ``path`` as they are added; ``close()`` finishes the file."""

    def __init__(self, path: Path, fps: int = VIDEO_FPS):
        try:
            from moviepy.video.io.ffmpeg_writer import FFMPEG_VideoWriter
        except ImportError:
            raise ConfigError("--video needs moviepy: pip install 'rldojo[video]'") from None
        if not path.parent.is_dir():
            raise ConfigError(f"--video {path}: folder {path.parent} does not exist; create it first")
        self.path = path
        self.frames = 0
        self.size: tuple[int, int] | None = None  # width, height
        self._fps = fps
        self._writer_class = FFMPEG_VideoWriter
        self._writer: Any = None

    def add(self, frame: np.ndarray) -> None:
        """Append one ``uint8 [H, W, 3]`` frame (every frame the size of the first)."""
        height, width = frame.shape[:2]
        if self.size is None:
            self.size = (width, height)
            self._writer = self._writer_class(str(self.path), self.size, self._fps)
        elif (width, height) != self.size:
            raise ValueError(f"a frame of {width}x{height} pixels in a video of {self.size} (width, height)")
        self._writer.write_frame(np.ascontiguousarray(frame, dtype=np.uint8))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
