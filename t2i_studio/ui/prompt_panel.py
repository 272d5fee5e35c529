"""The prompt panel: everything a GenerationRequest holds, validated as you type.

The panel only builds requests; the window submits them. ``request()`` reads the widgets,
``set_request()`` writes them (reuse settings round-trips every field), ``state()``/``load_state()``
are what the settings file remembers. The scheduler list holds only the names the chosen model's
family can use (``core.schedulers``). The editing modes (``inpaint_section``, with the viewer's mask
tools), the hires fix (``hires_section``), ControlNets (``control_section``) and IP-Adapter reference
pictures (``reference_section``) are offered only for engines that do them; the model picker lists
the catalog's generation models, not its ControlNets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QScrollArea, QSpinBox,
    QStyle, QVBoxLayout, QWidget,
)

from t2i_studio.core import schedulers
from t2i_studio.core.catalog import CHECKPOINT, ModelInfo
from t2i_studio.core.engine_registry import EngineEntry
from t2i_studio.core import starter_words
from t2i_studio.core.embeddings import with_embeddings
from t2i_studio.core.settings import embeddings_dir
from t2i_studio.core.wildcards import with_template
from t2i_studio.core.requests import (
    CONTROL_MODES, DEFAULT_ENGINE, DEVICES, DTYPES, GenerationRequest, ImageInputs, ModelRef, RunOptions,
    Sampling, request_from_dict,
)
from t2i_studio.ui.controls import (
    Collapsible, FloatSlider, ImageDrop, SeedEdit, SubmitFooter, icon_button, pick_image,
)
from t2i_studio.ui.control_section import ControlSection
from t2i_studio.ui.hires_section import HiresSection
from t2i_studio.ui.inpaint_section import InpaintSection
from t2i_studio.ui.lora_list import LoraList
from t2i_studio.ui.prompt_tokens import PromptTokens
from t2i_studio.ui.reference_section import ReferenceSection
from t2i_studio.ui.size_picker import SizePicker
from t2i_studio.ui.vae_picker import VaePicker
from t2i_studio.ui.style_picker import StylePicker
from t2i_studio.ui.wildcard_hint import WildcardHint

if TYPE_CHECKING:
    from t2i_studio.ui.mask_editor import MaskTools

ENGINE_ROLE = Qt.ItemDataRole.UserRole + 1  # the model picker's items: which engine runs the model
NO_MODEL_HINT = ("No model yet: open Models ▸ Manage models… to download one (for example "
                 "stabilityai/sd-turbo) or add a diffusers folder or a .safetensors file.")


class PromptPanel(QWidget):
    generate_requested = Signal(object)  # a GenerationRequest that passed validation as it was edited
    cancel_requested = Signal()
    manage_models = Signal()
    validity_changed = Signal(str)  # "" when valid

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model_ref: ModelRef | None = None  # the reused request's model: revision, config
        self._families: dict[str, str] = {}  # model id -> family, from the catalog
        self._engines: dict[str, EngineEntry] = {}  # what each engine can do, by name
        self._error = ""
        self._img2img = True  # the chosen engine does image-to-image
        self._build()
        self._connect()
        self.revalidate()

    # --- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.prompt = QPlainTextEdit(self)
        self.prompt.setPlaceholderText("Describe the image you want…  (Ctrl+Enter generates)")
        self.prompt.setAccessibleName("Prompt")
        self.prompt.setTabChangesFocus(True)
        self.understood = QLabel(self)  # the starter model's words, shown while it is chosen
        self.understood.setWordWrap(True)
        self.understood.setAccessibleName("Words the starter model understood")
        self.understood.hide()
        self.wildcards = WildcardHint(self)  # shown while the prompt has {a|b} choices or __wildcards__
        self.tokens = PromptTokens(self)  # "81/150 (2 chunks)", embeddings used, unknown LoRA tags
        self.negative = QPlainTextEdit(self)
        self.negative.setPlaceholderText("What to avoid (negative prompt)")
        self.negative.setAccessibleName("Negative prompt")
        self.negative.setTabChangesFocus(True)
        self.negative.setMaximumHeight(60)

        self.model = QComboBox(self)
        self.model.setAccessibleName("Model")
        self.model.setToolTip("The text-to-image model")
        self.model.setMinimumContentsLength(10)
        self.model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.manage = icon_button(self, "Manage models", "Download or add models…", text="…")
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.manage)

        self.size = SizePicker(self)
        self.steps = QSpinBox(self)
        self.steps.setRange(1, 500)
        self.steps.setValue(20)
        self.steps.setAccessibleName("Steps")
        self.steps.setToolTip("Denoising steps: more is slower and usually finer")
        self.guidance = FloatSlider("Guidance", 0.0, 50.0, 7.0, decimals=2, parent=self,
                                    tooltip="Guidance (CFG): how closely the image follows the prompt")
        self.scheduler = QComboBox(self)
        self.scheduler.addItems(schedulers.NAMES)
        self.scheduler.setCurrentText(schedulers.DEFAULT)
        self.scheduler.setAccessibleName("Scheduler")
        self.scheduler.setToolTip("Sampler / scheduler")
        self.clip_skip = QSpinBox(self)
        self.clip_skip.setRange(1, 12)
        self.clip_skip.setAccessibleName("Clip skip")
        self.clip_skip.setToolTip("A1111's clip skip: 2 leaves the text encoder's last layer out (1: off)")
        self.seed = SeedEdit("Seed", parent=self)
        self.batch_count = QSpinBox(self)
        self.batch_count.setRange(1, 100)
        self.batch_count.setAccessibleName("Batch count")
        self.batch_count.setToolTip("How many batches to make one after the other")

        form = QFormLayout()
        form.addRow("Model", model_row)
        self.loras = LoraList(self.prompt, self)  # rows of the prompt's <lora:name:weight> tags
        form.addRow("LoRAs", self.loras)
        self.style_preset = StylePicker(self)  # applied to the prompts on submit
        form.addRow("Style", self.style_preset)
        form.addRow("Size", self.size)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Scheduler", self.scheduler)
        form.addRow("Clip skip", self.clip_skip)
        form.addRow("Seed", self.seed)
        form.addRow("Batches", self.batch_count)

        # Noise: variation and init image.
        noise = QGroupBox("Noise", self)
        self.variation_strength = FloatSlider("Variation strength", 0.0, 1.0, 0.0, parent=noise,
                                              tooltip="Blend in noise from the variation seed")
        self.variation_seed = SeedEdit("Variation seed", lockable=False, allow_empty=True, parent=noise)
        self.init_image = ImageDrop("Init image", "Drop an init image here (optional)", edge=72, parent=noise)
        self.pick_init = icon_button(noise, "Choose init image", "Choose an init image…",
                                     icon=QStyle.StandardPixmap.SP_DirOpenIcon)
        self.clear_init = icon_button(noise, "Clear init image", "Generate from noise, no init image",
                                      icon=QStyle.StandardPixmap.SP_DialogDiscardButton)
        self.strength = FloatSlider("Init strength", 0.0, 1.0, 0.75, parent=noise,
                                    tooltip="0 keeps the init image, 1 ignores it")
        init_row = QHBoxLayout()
        init_row.addWidget(self.init_image, 1)
        init_buttons = QVBoxLayout()
        init_buttons.addWidget(self.pick_init)
        init_buttons.addWidget(self.clear_init)
        init_buttons.addStretch(1)
        init_row.addLayout(init_buttons)
        noise_form = QFormLayout(noise)
        noise_form.addRow("Variation", self.variation_strength)
        noise_form.addRow("Var. seed", self.variation_seed)
        noise_form.addRow("Init image", init_row)
        noise_form.addRow("Strength", self.strength)
        self.edit = InpaintSection(self)
        self.hires = HiresSection(self)
        self.control = ControlSection(self)
        self.references = ReferenceSection(self)

        # Advanced settings, collapsed.
        advanced_body = QWidget(self)
        self.batch_size = QSpinBox(advanced_body)
        self.batch_size.setRange(1, 16)
        self.batch_size.setAccessibleName("Batch size")
        self.batch_size.setToolTip("Images made together in one run (needs more memory)")
        self.device = QComboBox(advanced_body)
        self.device.addItems(DEVICES)
        self.device.setAccessibleName("Device")
        self.dtype = QComboBox(advanced_body)
        self.dtype.addItems(DTYPES)
        self.dtype.setAccessibleName("Precision")
        self.cpu_offload = QCheckBox("CPU offload (less GPU memory, slower)", advanced_body)
        self.vae_tiling = QCheckBox("VAE tiling (large images)", advanced_body)
        self.attention_slicing = QCheckBox("Attention slicing (less memory)", advanced_body)
        self.allow_unsafe = QCheckBox("Allow pickle checkpoints (can run code!)", advanced_body)
        self.allow_unsafe.setToolTip(".ckpt/.bin/.pt files can run code when loaded: only for files you trust")
        self.preview_every = QSpinBox(advanced_body)
        self.preview_every.setRange(1, 50)
        self.preview_every.setValue(RunOptions.preview_every)
        self.preview_every.setAccessibleName("Preview every N steps")
        self.preview_every.setToolTip("Steps between live previews")
        self.vae = VaePicker(advanced_body)
        adv = QFormLayout(advanced_body)
        adv.setContentsMargins(0, 0, 0, 0)
        adv.addRow("Batch size", self.batch_size)
        adv.addRow("Device", self.device)
        adv.addRow("Precision", self.dtype)
        adv.addRow("Preview every", self.preview_every)
        adv.addRow("VAE", self.vae)
        for box in (self.cpu_offload, self.vae_tiling, self.attention_slicing, self.allow_unsafe):
            adv.addRow(box)
        self.advanced = Collapsible("Advanced settings", advanced_body, parent=self)

        self.footer = SubmitFooter("Generate", "Generate (Ctrl+Enter); queued when a job is running", self)
        self.error, self.generate, self.cancel = self.footer.error, self.footer.submit, self.footer.cancel
        self.generate.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Prompt", self))
        layout.addWidget(self.prompt, 2)
        layout.addWidget(self.understood)
        layout.addWidget(self.wildcards)
        layout.addWidget(self.tokens)
        layout.addWidget(self.negative, 1)
        layout.addLayout(form)
        layout.addWidget(noise)
        layout.addWidget(self.edit)
        layout.addWidget(self.hires)
        layout.addWidget(self.control)
        layout.addWidget(self.references)
        layout.addWidget(self.advanced)
        layout.addStretch(1)
        layout.addWidget(self.footer)

    def _connect(self) -> None:
        for signal in (self.prompt.textChanged, self.negative.textChanged, self.size.changed,
                       self.steps.valueChanged, self.guidance.valueChanged, self.seed.changed,
                       self.scheduler.currentIndexChanged, self.batch_count.valueChanged,
                       self.variation_strength.valueChanged, self.variation_seed.changed,
                       self.clip_skip.valueChanged,
                       self.init_image.changed, self.strength.valueChanged, self.batch_size.valueChanged,
                       self.model.currentIndexChanged, self.loras.changed, self.vae.changed,
                       self.edit.changed,
                       self.hires.changed, self.style_preset.currentIndexChanged, self.wildcards.changed):
            signal.connect(self.revalidate)
        self.control.changed.connect(self.revalidate)
        self.references.changed.connect(self.revalidate)
        self.model.currentIndexChanged.connect(self._apply_engine)  # the chosen model's engine and family
        self.prompt.textChanged.connect(self._show_understood)
        self.model.currentIndexChanged.connect(self._show_understood)
        self.generate.clicked.connect(self.submit)
        self.cancel.clicked.connect(self.cancel_requested)
        self.manage.clicked.connect(self.manage_models)
        self.pick_init.clicked.connect(self._pick_init)
        self.clear_init.clicked.connect(lambda: self.init_image.set_path(""))
        self.init_image.changed.connect(self._init_changed)
        self.edit.changed.connect(self._init_changed)
        self.size.changed.connect(lambda: self.hires.set_base_size(*self.size.size()))

    # --- models ------------------------------------------------------------------------------
    def set_models(self, models: list[ModelInfo]) -> None:
        """Fill the picker from the catalog, keeping the current choice (even if not listed)."""
        current, engine = self.model_id(), self.engine_name()
        self.control.set_controlnets(models)
        models = [info for info in models if info.kind == CHECKPOINT]
        self.model.blockSignals(True)
        self.model.clear()
        for info in models:
            self.model.addItem(info.name, info.id)
            # the location as a tooltip: the item's data stays the id that requests carry
            self.model.setItemData(self.model.count() - 1, info.path or info.id, Qt.ItemDataRole.ToolTipRole)
            self.model.setItemData(self.model.count() - 1, info.engine, ENGINE_ROLE)
        self.model.setPlaceholderText("No model installed" if not models else "Choose a model")
        self.model.blockSignals(False)
        self._families = {info.id: info.family for info in models}
        if current:
            self.set_model(current, engine)
        else:
            self.set_model(models[0].id if models else "", models[0].engine if models else None)

    def set_model(self, model_id: str, engine: str | None = None) -> None:
        """Choose ``model_id`` (of ``engine``, when the same id is listed for several engines)."""
        if not model_id:
            self.model.setCurrentIndex(-1)
        else:
            index = next((i for i in range(self.model.count()) if self.model.itemData(i) == model_id
                          and engine in (None, self.model.itemData(i, ENGINE_ROLE))), -1)
            if index < 0:
                self.model.addItem(model_id.rstrip("/").rsplit("/", 1)[-1] or model_id, model_id)
                index = self.model.count() - 1
                self.model.setItemData(index, engine or DEFAULT_ENGINE, ENGINE_ROLE)
            self.model.setCurrentIndex(index)
        self._apply_engine()
        self.revalidate()

    def set_engines(self, entries: list[EngineEntry]) -> None:
        """What each engine can do: the panel offers only that for the chosen model's engine."""
        self._engines = {entry.name: entry for entry in entries}
        self._apply_engine()
        self.revalidate()

    def engine_name(self) -> str:
        engine = self.model.currentData(ENGINE_ROLE)
        return str(engine) if engine else DEFAULT_ENGINE

    def _apply_engine(self) -> None:
        """The chosen engine's schedulers, and an init image only when it does image-to-image."""
        entry = self._engines.get(self.engine_name())
        self.loras.setEnabled(entry is None or "lora" in entry.adapters)
        self.loras.setToolTip("" if self.loras.isEnabled() else "This model's engine cannot use LoRAs")
        img2img = entry is None or "img2img" in entry.modes
        self._img2img = img2img
        if not img2img:
            self.init_image.set_path("")
        self.edit.set_modes(entry.modes if entry is not None else ("inpaint", "outpaint"))
        self.hires.setVisible(entry is None or entry.hires)
        self.control.setVisible(entry is None or entry.controls)
        self.references.setVisible(entry is None or entry.references)
        self.control.set_model(self.engine_name(), self._families.get(self.model_id()))
        self._init_changed()
        self._offer_schedulers()

    def _show_understood(self) -> None:
        starter = self.engine_name() == starter_words.ENGINE
        self.understood.setVisible(starter)
        if starter:
            self.understood.setText(starter_words.hint(self.prompt.toPlainText()))

    def _init_changed(self) -> None:
        """The init strength means something only with an init image (in the editing modes, the
        viewer's picture); the hires fix only for text-to-image."""
        editing = bool(self.edit.edit_mode())
        for widget in (self.init_image, self.pick_init, self.clear_init):
            widget.setEnabled(self._img2img and not editing)
        self.init_image.setToolTip("Inpainting and outpainting start from the picture in the viewer" if editing
                                   else self.init_image.path or self.init_image.accessibleName())
        self.strength.setEnabled(editing or (self.init_image.isEnabled() and bool(self.init_image.path)))
        self.hires.set_usable(self._mode() == "txt2img")
        self.control.set_usable(self._mode() in CONTROL_MODES)

    def _mode(self) -> str:
        return self.edit.edit_mode() or ("img2img" if self.init_image.path else "txt2img")

    def _offer_schedulers(self) -> None:
        """Only the schedulers of the chosen model's family (all of them while it is not known)."""
        names = schedulers.names_for(self._families.get(self.model_id()))
        entry = self._engines.get(self.engine_name())
        if entry is not None and entry.schedulers:
            names = tuple(n for n in names if n in entry.schedulers) or names
        # an engine that declares none (the starter GAN) does not sample step by step: nothing to choose
        samples = entry is None or bool(entry.schedulers)
        self.scheduler.setEnabled(samples)
        self.scheduler.setToolTip("Sampler / scheduler" if samples else f"{entry.label} uses no scheduler")
        self.clip_skip.setEnabled(samples)  # nor a CLIP text encoder whose layers could be skipped
        if [self.scheduler.itemText(i) for i in range(self.scheduler.count())] == list(names):
            return
        current = self.scheduler.currentText()
        self.scheduler.blockSignals(True)
        self.scheduler.clear()
        self.scheduler.addItems(names)
        self.scheduler.setCurrentText(current if current in names else names[0])
        self.scheduler.blockSignals(False)

    def model_id(self) -> str:
        data = self.model.currentData()
        return str(data) if data else ""

    # --- requests ------------------------------------------------------------------------------
    def request(self, seed: int | None = None) -> GenerationRequest:
        """The request the widgets describe (not validated), with ``seed`` or the one shown."""
        model_id = self.model_id()
        # the parts of the model reference the widgets do not show (revision, config); LoRAs from the list
        reused = self._model_ref
        model = reused if reused is not None and reused.id == model_id else ModelRef(model_id)
        model = model.replace(adapters=self.loras.adapters() if self.loras.isEnabled() else (),
                              vae=self.vae.vae())
        width, height = self.size.size()
        mode = self._mode()
        init = self.edit.init_image() if self.edit.edit_mode() else self.init_image.path or None
        hires = self.hires.hires() if mode == "txt2img" and not self.hires.isHidden() else None
        controls = self.control.controls() if mode in CONTROL_MODES and not self.control.isHidden() else ()
        references = self.references.references() if not self.references.isHidden() else ()
        return GenerationRequest(
            prompt=self.prompt.toPlainText(), negative_prompt=self.negative.toPlainText(),
            template_mode=self.wildcards.template_mode(), mode=mode, width=width, height=height, model=model,
            sampling=Sampling(
                steps=self.steps.value(), guidance=self.guidance.value(),
                scheduler=self.scheduler.currentText(),
                seed=seed if seed is not None else (self.seed.seed() or 0),
                batch_size=self.batch_size.value(), batch_count=self.batch_count.value(),
                variation_seed=self.variation_seed.seed(), variation_strength=self.variation_strength.value(),
                clip_skip=self.clip_skip.value()),
            images=ImageInputs(init, self.strength.value(), **self.edit.fields(), controls=controls,
                               references=references),
            hires=hires,
            run=RunOptions(
                device=self.device.currentText(), dtype=self.dtype.currentText(),
                cpu_offload=self.cpu_offload.isChecked(), vae_tiling=self.vae_tiling.isChecked(),
                attention_slicing=self.attention_slicing.isChecked(),
                allow_unsafe_checkpoint=self.allow_unsafe.isChecked(), preview_every=self.preview_every.value()),
            engine=self.engine_name(),
        )

    def set_request(self, request: GenerationRequest, *, lock_seed: bool = True) -> None:
        """Show every field of ``request`` (reuse settings); the seed is locked to reproduce it."""
        self._model_ref = request.model
        sampling, run = request.sampling, request.run
        self.prompt.setPlainText(request.prompt)
        self.loras.set_adapters(tuple(a for a in request.model.adapters if a.kind == "lora"))  # after the text
        self.vae.set_vae(request.model.vae)
        self.negative.setPlainText(request.negative_prompt)
        self.wildcards.set_template_mode(request.template_mode)
        self.set_model(request.model.id, request.engine)
        self.size.set_size(request.width, request.height)
        self.steps.setValue(sampling.steps)
        self.guidance.setValue(sampling.guidance)
        self.scheduler.setCurrentText(sampling.scheduler)
        self.seed.set_seed(sampling.seed)
        self.seed.set_locked(lock_seed)
        self.batch_count.setValue(sampling.batch_count)
        self.batch_size.setValue(sampling.batch_size)
        self.variation_strength.setValue(sampling.variation_strength)
        self.variation_seed.set_seed(sampling.variation_seed)
        self.clip_skip.setValue(sampling.clip_skip)
        editing = request.mode in ("inpaint", "outpaint")
        self.init_image.set_path("" if editing else request.images.init_image or "")
        self.strength.setValue(request.images.strength)
        self.edit.set_images(request.mode, request.images)
        self.hires.set_hires(request.hires)
        self.control.set_controls(request.images.controls)
        self.references.set_references(request.images.references)
        self.device.setCurrentText(run.device)
        self.dtype.setCurrentText(run.dtype)
        self.cpu_offload.setChecked(run.cpu_offload)
        self.vae_tiling.setChecked(run.vae_tiling)
        self.attention_slicing.setChecked(run.attention_slicing)
        self.allow_unsafe.setChecked(run.allow_unsafe_checkpoint)
        if run.preview_every:
            self.preview_every.setValue(run.preview_every)
        if sampling.batch_size > 1 or run.device != "auto" or run.dtype != "auto":
            self.advanced.set_expanded(True)
        self.revalidate()

    def set_seed(self, seed: int) -> None:
        """Reuse a seed: show it and lock it."""
        self.seed.set_seed(seed)
        self.seed.set_locked(True)

    def set_init_image(self, path: str) -> None:
        """Image-to-image from ``path`` (inpainting or outpainting ends)."""
        self.edit.set_edit_mode("")
        self.init_image.set_path(path)

    def attach_mask_tools(self, tools: MaskTools) -> None:
        """The viewer's mask tools: what inpainting and outpainting edit."""
        self.edit.attach(tools)
        self._apply_engine()

    def start_edit(self, mode: str = "inpaint") -> bool:
        """Inpaint (or outpaint) the viewer's picture; False when the chosen engine cannot."""
        started = self.edit.set_edit_mode(mode)
        scroll = self.parentWidget()
        while scroll is not None and not isinstance(scroll, QScrollArea):
            scroll = scroll.parentWidget()
        if started and scroll is not None:  # the section's options in sight, below the prompt
            QTimer.singleShot(0, lambda: scroll.ensureWidgetVisible(self.edit))
        return started

    def set_upscalers(self, names: list[str]) -> None:
        """The model upscalers the hires fix can use, besides Latent and Lanczos."""
        self.hires.set_upscalers(names)

    def _pick_init(self) -> None:
        path = pick_image(self, "Choose an init image")
        if path:
            self.init_image.set_path(path)

    def revalidate(self, *_args: object) -> str:
        request = self.request()  # first: building it keeps a painted mask, whose problems come next
        self.wildcards.show_for(self.style_preset.styled(request))
        self.tokens.show_for(self.style_preset.styled(request))
        missing = (self.edit.problem() or self.loras.problem() or self.control.problem()) if self.model_id() \
            else NO_MODEL_HINT
        error = self.footer.check(request, missing)
        if error != self._error:
            self._error = error
            self.validity_changed.emit(error)
        return error

    def submit(self) -> GenerationRequest | None:
        """Emit ``generate_requested`` with a validated request (a fresh seed unless locked)."""
        self.control.take_sketch()
        if self.revalidate():
            return None
        request = with_template(self.style_preset.styled(self.request(self.seed.seed_for_submit())))
        entry = self._engines.get(self.engine_name())
        if entry is None or "embedding" in entry.adapters:  # the embeddings the prompts name, by file
            request = with_embeddings(request, embeddings_dir())
        self.generate_requested.emit(request)
        return request

    def set_running(self, running: bool) -> None:
        self.cancel.setEnabled(running)

    # --- settings --------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {**self.request().to_dict(), "seed_locked": self.seed.locked,
                "advanced_open": self.advanced.expanded, "style": self.style_preset.name()}

    def load_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        try:
            request = request_from_dict({**state, "kind": "generate"})
        except ValueError:
            return
        assert isinstance(request, GenerationRequest)
        self.set_request(request, lock_seed=bool(state.get("seed_locked", False)))
        self.advanced.set_expanded(bool(state.get("advanced_open", False)))
        self.style_preset.set_name(str(state.get("style") or ""))
