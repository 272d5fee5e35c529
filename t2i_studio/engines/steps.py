"""One progress count over every denoising pass of a request (a hires fix's second pass, each tile
of an SD upscale), with live previews and cancel checked at each step.

The total starts as the plan (``planned_steps``) and grows if a scheduler runs more steps than
asked (Heun-type samplers run two per step), so the bar never goes backwards.
"""

from __future__ import annotations

from typing import Any

from t2i_studio.core.engine import CancelToken, Progress, ProgressCallback
from t2i_studio.core.requests import GenerationRequest


def pass_steps(steps: int, strength: float | None) -> int:
    """The steps diffusers runs for ``steps`` at a denoising ``strength`` (None: text-to-image)."""
    return steps if strength is None else min(int(steps * strength), steps)


def planned_steps(request: GenerationRequest, tiles: int = 1) -> int:
    sampling, images = request.sampling, request.images
    if request.mode == "txt2img":
        hires = request.hires
        second = pass_steps(hires.steps or sampling.steps, hires.strength) if hires else 0
        return sampling.steps + second
    return max(pass_steps(sampling.steps, images.strength), 1) * tiles


class StepCounter:
    """Counts steps across passes; ``callback()`` is diffusers' ``callback_on_step_end`` for one pass."""

    def __init__(self, request: GenerationRequest, on_progress: ProgressCallback, cancel: CancelToken,
                 previewer: Any = None) -> None:
        self.on_progress, self.cancel, self.previewer = on_progress, cancel, previewer
        self.every = request.run.preview_every
        self.total = planned_steps(request)
        self.done = 0
        self.message = ""

    def plan(self, total: int) -> None:
        self.total = max(total, self.done)

    def report(self, preview: Any = None) -> None:
        self.on_progress(Progress(self.done, max(self.total, self.done), preview, self.message))

    def callback(self) -> Any:
        start = self.done

        def on_step_end(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            if step == 0:  # the pass's own count is known once it runs
                self.total = max(self.total, start + int(getattr(pipe, "_num_timesteps", 0)))
            self.done += 1
            if not self.cancel.cancelled:
                preview = None
                if self.every and self.previewer is not None and (step + 1) % self.every == 0:
                    latents = kwargs.get("latents")
                    if latents is not None and latents.dim() == 4:
                        preview = self.previewer(latents)
                self.report(preview)
            if self.cancel.cancelled:  # checked after the report too: a cancel from it counts now
                pipe._interrupt = True  # diffusers skips the remaining steps
            return kwargs

        return on_step_end
