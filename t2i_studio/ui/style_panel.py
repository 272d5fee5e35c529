"""The style-transfer panel: content image, style images with weights, the sliders, Stylize/Cancel.

The content is the selected gallery image by default (the result is then linked to it through
``StyleRequest.content_entry_id``); picking or dropping a file overrides that until "Use gallery
selection" is pressed. Style transfer is classic (VGG19, a StyleRequest) or by diffusion
(``style_by_diffusion``: a prompt drawn in the styles' style through an IP-Adapter, a GenerationRequest
with the Generate panel's model: ``generation_base``, which the window sets, gives its request).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QStyle, QVBoxLayout, QWidget,
)

from t2i_studio.core.embeddings import with_embeddings
from t2i_studio.core.requests import (
    MAX_SIDE, QUALITY_PRESETS, GenerationRequest, StyleRequest, random_seed, request_from_dict,
)
from t2i_studio.core.settings import embeddings_dir
from t2i_studio.core.wildcards import with_template
from t2i_studio.ui.controls import FloatSlider, ImageDrop, SubmitFooter, choose, combo, icon_button, pick_image
from t2i_studio.ui.style_by_diffusion import DiffusionStyle
from t2i_studio.ui.style_list import StyleList

PICK_FILE = "\0pick"  # the Weights entry that asks for a file
CLASSIC, DIFFUSION = "classic", "diffusion"
METHODS = (("Classic (VGG, any image, no prompt)", CLASSIC), ("By diffusion (IP-Adapter, with a prompt)", DIFFUSION))


class StylePanel(QWidget):
    stylize_requested = Signal(object)  # a StyleRequest (a GenerationRequest by diffusion), validated as edited
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, vgg_weights: str = "imagenet") -> None:
        super().__init__(parent)
        self.content_entry_id: int | None = None
        self.follow_gallery = True
        self._gallery: tuple[int | None, str] = (None, "")
        self._setting = False
        self.generation_base: Callable[[], GenerationRequest] | None = None  # the Generate panel's request
        self._build()
        self.vgg_weights = vgg_weights
        self.revalidate()

    @property
    def vgg_weights(self) -> str:
        """"imagenet", "random" or the path of a VGG19 weights file, as the Weights choice says."""
        return str(self.weights.currentData())

    @vgg_weights.setter
    def vgg_weights(self, value: str) -> None:
        index = self.weights.findData(value)
        if index < 0:  # a file: listed by its name, before "From a file…"
            self.weights.insertItem(self.weights.count() - 1, Path(value).name, value)
            self.weights.setItemData(self.weights.count() - 2, value, Qt.ItemDataRole.ToolTipRole)
            index = self.weights.count() - 2
        self.weights.setCurrentIndex(index)

    def _weights_chosen(self, index: int) -> None:
        if self.weights.itemData(index) != PICK_FILE:
            self._last_weights = index
            return
        path, _ = QFileDialog.getOpenFileName(self, "Choose VGG19 weights", "",
                                              "VGG19 weights (*.pth *.safetensors)")
        if path:
            self.vgg_weights = path
        else:
            self.weights.setCurrentIndex(self._last_weights)

    def _build(self) -> None:
        self.method = combo(self, "Style transfer method", "Classic: a VGG network restyles the content picture, "
                            "no prompt needed. By diffusion: the model draws a prompt in the style of the chosen "
                            "pictures through an IP-Adapter", METHODS)
        self.diffusion = DiffusionStyle(self)
        self.content = ImageDrop("Content image", "Select an image in the gallery, or drop one here",
                                 edge=120, parent=self)
        self.pick_content = icon_button(self, "Choose content image", "Choose a content image file…",
                                        icon=QStyle.StandardPixmap.SP_DirOpenIcon)
        self.use_gallery = icon_button(self, "Use gallery selection",
                                       "Use the image selected in the gallery as content",
                                       icon=QStyle.StandardPixmap.SP_ArrowBack)
        self.content_label = QLabel(self)
        self.content_label.setWordWrap(True)
        content_buttons = QVBoxLayout()
        content_buttons.addWidget(self.pick_content)
        content_buttons.addWidget(self.use_gallery)
        content_buttons.addStretch(1)
        content_row = QHBoxLayout()
        content_row.addWidget(self.content, 1)
        content_row.addLayout(content_buttons)

        self.styles = StyleList(self)
        self.strength = FloatSlider("Style strength", 0.0, 1.0, 0.5, parent=self,
                                    tooltip="How strongly the style is applied (0 returns the content)")
        self.fidelity = FloatSlider("Content fidelity", 0.0, 1.0, 0.5, parent=self,
                                    tooltip="How much of the content's structure is kept")
        self.smoothness = FloatSlider("Smoothness", 0.0, 1.0, 0.1, parent=self,
                                      tooltip="Total-variation smoothing: less noise, softer detail")
        self.scale = FloatSlider("Style scale", 0.1, 4.0, 1.0, parent=self,
                                 tooltip="Brush-stroke size: the style image's scale relative to the output")
        self.preserve = QCheckBox("Preserve the content's colours", self)
        self.size = QSpinBox(self)
        self.size.setRange(32, MAX_SIDE)
        self.size.setValue(512)
        self.size.setSuffix(" px")
        self.size.setAccessibleName("Output size (long edge)")
        self.size.setToolTip("Long edge of the result in pixels")
        self.quality = QComboBox(self)
        self.quality.addItems(QUALITY_PRESETS)
        self.quality.setCurrentText("normal")
        self.quality.setAccessibleName("Quality")
        self.quality.setToolTip("More iterations and scales for higher quality (slower)")
        self.iterations = QSpinBox(self)
        self.iterations.setRange(0, 10000)
        self.iterations.setSpecialValueText("from quality")
        self.iterations.setAccessibleName("Iterations")
        self.iterations.setToolTip("Optimiser iterations in all (overrides the quality preset)")

        self.weights = QComboBox(self)
        self.weights.addItem("ImageNet VGG19 (downloaded once, 548 MB)", "imagenet")
        self.weights.addItem("Random: works offline, lower quality", "random")
        self.weights.addItem("From a file…", PICK_FILE)
        self.weights.setAccessibleName("VGG19 weights")
        self.weights.setToolTip("The network that judges style and content: the real ImageNet weights, "
                                "random ones that need no download, or a vgg19 .pth/.safetensors file")
        self.weights.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.weights.setMinimumContentsLength(12)
        self._last_weights = 0
        self.weights.activated.connect(self._weights_chosen)

        self.classic_form = QWidget(self)
        form = QFormLayout(self.classic_form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Weights", self.weights)
        form.addRow("Strength", self.strength)
        form.addRow("Fidelity", self.fidelity)
        form.addRow("Smoothness", self.smoothness)
        form.addRow("Scale", self.scale)
        form.addRow(self.preserve)
        form.addRow("Size", self.size)
        form.addRow("Quality", self.quality)
        form.addRow("Iterations", self.iterations)

        self.footer = SubmitFooter("Stylize", "Restyle the content image (queued when a job is running)", self)
        self.error, self.stylize, self.cancel = self.footer.error, self.footer.submit, self.footer.cancel

        self.classic_content = QWidget(self)
        content = QVBoxLayout(self.classic_content)
        content.setContentsMargins(0, 0, 0, 0)
        content.addWidget(QLabel("Content", self))
        content.addLayout(content_row)
        content.addWidget(self.content_label)
        methods = QFormLayout()
        methods.addRow("Style transfer", self.method)

        layout = QVBoxLayout(self)
        layout.addLayout(methods)
        layout.addWidget(self.classic_content)
        layout.addWidget(QLabel("Styles", self))
        layout.addWidget(self.styles, 1)
        layout.addWidget(self.classic_form)
        layout.addWidget(self.diffusion)
        layout.addWidget(self.footer)

        self.pick_content.clicked.connect(self._pick_content)
        self.use_gallery.clicked.connect(self._follow_gallery)
        self.content.changed.connect(self._content_dropped_or_set)
        for signal in (self.styles.changed, self.strength.valueChanged, self.fidelity.valueChanged,
                       self.smoothness.valueChanged, self.scale.valueChanged, self.size.valueChanged,
                       self.diffusion.prompt.textChanged, self.diffusion.adapter.changed,
                       self.diffusion.scale.valueChanged):
            signal.connect(self.revalidate)
        self.method.currentIndexChanged.connect(self._method_changed)
        self._method_changed()
        self.stylize.clicked.connect(self.submit)
        self.cancel.clicked.connect(self.cancel_requested)

    def by_diffusion(self) -> bool:
        return self.method.currentData() == DIFFUSION

    def _method_changed(self) -> None:
        diffusion = self.by_diffusion()
        self.classic_content.setVisible(not diffusion)
        self.classic_form.setVisible(not diffusion)
        self.diffusion.setVisible(diffusion)
        self.revalidate()

    # --- content -------------------------------------------------------------------------------
    def set_gallery_content(self, entry_id: int | None, path: str) -> None:
        """The gallery selection changed; used as content unless the user chose a file."""
        self._gallery = (entry_id, path)
        if self.follow_gallery:
            self._set_content(entry_id, path)

    def set_content_entry(self, entry_id: int, path: str) -> None:
        """Stylize this gallery entry (the gallery's "Stylize…")."""
        self.follow_gallery = True
        self._gallery = (entry_id, path)
        self._set_content(entry_id, path)

    def set_content_file(self, path: str) -> None:
        self.follow_gallery = False
        self._set_content(None, path)

    def _set_content(self, entry_id: int | None, path: str) -> None:
        self._setting = True
        self.content_entry_id = entry_id
        self.content.set_path(path)
        self._setting = False
        source = f"gallery image #{entry_id}" if entry_id is not None else ("a file" if path else "none")
        self.content_label.setText(f"Content: {source}")
        self.revalidate()

    def _content_dropped_or_set(self, path: str) -> None:
        if not self._setting:  # a drop onto the content well
            self.set_content_file(path)

    def _pick_content(self) -> None:
        path = pick_image(self, "Choose a content image")
        if path:
            self.set_content_file(path)

    def _follow_gallery(self) -> None:
        self.follow_gallery = True
        self._set_content(*self._gallery)

    # --- requests ------------------------------------------------------------------------------
    def request(self) -> StyleRequest | GenerationRequest:
        """What Stylize submits: the classic StyleRequest, or by diffusion a GenerationRequest."""
        if not self.by_diffusion():
            return self.style_request()
        base = self.generation_base() if self.generation_base is not None else GenerationRequest(prompt="")
        return self.diffusion.request(base, self.styles.chosen())

    def style_request(self) -> StyleRequest:
        chosen = self.styles.chosen()
        weights = tuple(w for _p, w in chosen) if len(chosen) > 1 else ()
        return StyleRequest(
            content=self.content.path, styles=tuple(p for p, _w in chosen), style_weights=weights,
            style_strength=self.strength.value(), content_fidelity=self.fidelity.value(),
            smoothness=self.smoothness.value(), preserve_colors=self.preserve.isChecked(),
            style_scale=self.scale.value(), size=self.size.value(), quality=self.quality.currentText(),
            iterations=self.iterations.value() or None, vgg_weights=self.vgg_weights,
            content_entry_id=self.content_entry_id,
        )

    def set_request(self, request: StyleRequest) -> None:
        """Reuse the settings of a stylized image (its content becomes a file unless linked)."""
        choose(self.method, CLASSIC)
        if request.content_entry_id is not None:
            self.set_content_entry(request.content_entry_id, request.content)
        else:
            self.set_content_file(request.content)
        self.set_params(request)
        self.styles.set_chosen(list(request.styles), request.style_weights)

    def set_params(self, request: StyleRequest) -> None:
        self.strength.setValue(request.style_strength)
        self.fidelity.setValue(request.content_fidelity)
        self.smoothness.setValue(request.smoothness)
        self.scale.setValue(request.style_scale)
        self.preserve.setChecked(request.preserve_colors)
        self.size.setValue(request.size)
        self.quality.setCurrentText(request.quality)
        self.iterations.setValue(request.iterations or 0)
        self.vgg_weights = request.vgg_weights

    def revalidate(self, *_args: object) -> str:
        if not self.content.path and not self.by_diffusion():
            missing = "Select an image in the gallery (or drop one on the content well) to stylize it."
        elif not self.styles.checked_paths():
            missing = "Click a style image to use it (or add your own with +)."
        else:
            missing = ""
        return self.footer.check(self.request(), missing)

    def submit(self) -> StyleRequest | GenerationRequest | None:
        if self.revalidate():
            return None
        request = self.request()
        if isinstance(request, GenerationRequest):  # as the Generate panel submits: a new seed, wildcards, embeddings
            request = request.replace(sampling=request.sampling.replace(seed=random_seed()))
            request = with_embeddings(with_template(request), embeddings_dir())
        self.stylize_requested.emit(request)
        return request

    def set_running(self, running: bool) -> None:
        self.cancel.setEnabled(running)

    # --- settings --------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        req = self.style_request()
        return {"style_strength": req.style_strength, "content_fidelity": req.content_fidelity,
                "smoothness": req.smoothness, "style_scale": req.style_scale,
                "preserve_colors": req.preserve_colors, "size": req.size, "quality": req.quality, "iterations": req.iterations,
                "user_styles": self.styles.user_styles(), "styles": list(req.styles),
                "style_weights": [w for _p, w in self.styles.chosen()], "vgg_weights": req.vgg_weights,
                "method": self.method.currentData(), "diffusion": self.diffusion.state()}

    def load_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        try:
            params = request_from_dict({"content": "", "styles": [], **state, "kind": "stylize"})
        except ValueError:
            pass
        else:
            assert isinstance(params, StyleRequest)
            self.set_params(params)
        for path in state.get("user_styles", []):
            if isinstance(path, str):
                self.styles.add_style(path)
        styles = [p for p in state.get("styles", []) if isinstance(p, str)]
        weights = [float(w) for w in state.get("style_weights", []) if isinstance(w, (int, float))]
        if styles:
            self.styles.set_chosen(styles, weights)
        if isinstance(state.get("diffusion"), dict):
            self.diffusion.load_state(state["diffusion"])
        choose(self.method, state.get("method"))
