"""VideoRecorder writes every frame once, in order: none dropped at the end, none duplicated."""

from __future__ import annotations

import imageio_ffmpeg
import numpy as np
import pytest

from rldojo.video import VIDEO_FPS, VideoRecorder

pytestmark = pytest.mark.smoke


def test_every_frame_is_in_the_file_once_the_last_one_included(tmp_path):
    shades = [0, 60, 120, 180, 240]  # one flat grey per frame, so each frame read back names its source
    recorder = VideoRecorder(tmp_path / "shades.mp4")
    for shade in shades:
        recorder.add(np.full((32, 48, 3), shade, dtype=np.uint8))
    recorder.close()
    frames = imageio_ffmpeg.read_frames(str(tmp_path / "shades.mp4"))
    header = next(frames)
    assert header["size"] == (48, 32) and header["fps"] == VIDEO_FPS
    read_back = [float(np.frombuffer(frame, dtype=np.uint8).mean()) for frame in frames]
    assert np.allclose(read_back, shades, atol=3)  # H.264 is lossy by a level or two
