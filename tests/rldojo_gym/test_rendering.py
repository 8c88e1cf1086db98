"""rgb_array rendering of the rldojo/ ids, recorded by Gymnasium's own RecordVideo and read back."""

from __future__ import annotations

from pathlib import Path

import gymnasium
import imageio_ffmpeg
import numpy as np
import pytest
from gymnasium.wrappers import RecordVideo

import rldojo_gym

pytestmark = pytest.mark.smoke

gymnasium.register_envs(rldojo_gym)


def test_record_video_writes_every_episode(tmp_path: Path) -> None:
    env = RecordVideo(
        gymnasium.make("rldojo/Basic-v0", render_mode="rgb_array", max_steps=9),
        str(tmp_path),
        episode_trigger=lambda episode: True,
        disable_logger=True,
    )
    assert env.metadata["render_fps"] == 25
    lengths = []
    for episode in range(2):
        env.reset(seed=episode)
        steps, done = 0, False
        while not done:
            _, _, terminated, truncated, _ = env.step(0)  # stay: every episode ends at max_steps
            steps, done = steps + 1, terminated or truncated
        lengths.append(steps)
    env.close()
    videos = sorted(tmp_path.glob("*.mp4"))
    assert len(videos) == 2
    for video, length in zip(videos, lengths, strict=True):
        frames = imageio_ffmpeg.read_frames(str(video))
        meta = next(frames)
        assert meta["size"] == (64, 64) and meta["fps"] == 25
        # the reset's frame, then one per step (10 frames: moviepy drops the last frame of some
        # lengths, e.g. 13 at 25 frames/s, when it rounds the clip's duration)
        assert length == 9 and sum(1 for _ in frames) == length + 1


def test_frames_show_one_area_under_make_and_every_area_under_make_vec() -> None:
    single = gymnasium.make("rldojo/GridWorld-v0", render_mode="rgb_array")
    single.reset(seed=0)
    frame = single.render()
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
    vector = gymnasium.make_vec("rldojo/GridWorld-v0", render_mode="rgb_array")
    vector.reset(seed=0)
    (scene,) = vector.render()
    assert scene.shape == (3 * 64, 3 * 64, 3)  # nine areas, three by three


def test_launched_builds_render_nothing_and_say_why() -> None:
    # SB3 asks every env for rgb_array frames: a launched build still starts, renders nothing, and says so
    with pytest.warns(
        UserWarning, match=r"render_mode='rgb_array' is ignored: \w*UnityEnvironment draws no frames"
    ):
        env = gymnasium.make("rldojo/Basic-v0", launch=True, render_mode="rgb_array", timeout_wait=30)
    try:
        assert env.unwrapped.metadata["render_modes"] == [] and env.unwrapped.render_mode is None
    finally:
        env.close()
