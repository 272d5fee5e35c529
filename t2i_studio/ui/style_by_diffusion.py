"""The style panel's "by diffusion" choice: the chosen style pictures become IP-Adapter references in
style mode, and a prompt says what to draw in that style with the Generate panel's model and
settings (``base``: its request), so the result is a GenerationRequest run like the Generate
panel's. Each style's weight sets its share of the scale (the heaviest one at the full scale).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFormLayout, QPlainTextEdit, QWidget

from t2i_studio.core.requests import MAX_REFERENCE_SCALE, GenerationRequest, ImageInputs, Reference
from t2i_studio.ui.controls import FloatSlider
from t2i_studio.ui.reference_section import AdapterChooser

STYLE_SCALE = 1.0  # InstantStyle's style-block scale


class DiffusionStyle(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompt = QPlainTextEdit(self)
        self.prompt.setPlaceholderText("What to draw in the style of the chosen pictures")
        self.prompt.setAccessibleName("Prompt for the style")
        self.prompt.setTabChangesFocus(True)
        self.prompt.setMaximumHeight(70)
        self.adapter = AdapterChooser(self)
        self.scale = FloatSlider("IP-Adapter scale", 0.0, MAX_REFERENCE_SCALE, STYLE_SCALE, parent=self,
                                 tooltip="How strongly the style pictures steer the picture")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Prompt", self.prompt)
        form.addRow(self.adapter)
        form.addRow("Scale", self.scale)

    def request(self, base: GenerationRequest, styles: list[tuple[str, float]]) -> GenerationRequest:
        """``styles`` ((path, weight) pairs) drawn as ``prompt`` says with ``base``'s model and sampling."""
        model, encoder = self.adapter.adapter()
        top = max((w for _p, w in styles), default=0.0) or 1.0
        references = tuple(Reference(path, model, round(self.scale.value() * weight / top, 3), "style", encoder)
                           for path, weight in styles)
        return GenerationRequest(
            prompt=self.prompt.toPlainText(), negative_prompt=base.negative_prompt, width=base.width,
            height=base.height, model=base.model, sampling=base.sampling, images=ImageInputs(references=references),
            run=base.run, engine=base.engine)

    def state(self) -> dict[str, Any]:
        model, encoder = self.adapter.adapter()
        return {"prompt": self.prompt.toPlainText(), "ip_adapter": model, "ip_encoder": encoder,
                "ip_scale": self.scale.value()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.prompt.setPlainText(str(state.get("prompt") or ""))
        encoder = state.get("ip_encoder")
        self.adapter.set_adapter(str(state.get("ip_adapter") or ""), str(encoder) if encoder else None)
        scale = state.get("ip_scale")
        if isinstance(scale, (int, float)):
            self.scale.setValue(float(scale))
