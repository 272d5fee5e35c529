"""Model sources: a Hugging Face id (standard HF cache), a local diffusers folder, or one
``.safetensors`` checkpoint (diffusers' single-file loader). ``trust_remote_code`` is never set.
The catalog lists ControlNets from the same sources (``engines.controlnet_files`` tells them apart).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from t2i_studio.core.catalog import CONTROLNET, ByteProgress, ModelInfo
from t2i_studio.core.engine import Cancelled, CancelToken, EngineError
from t2i_studio.core.settings import Settings, hf_cache_dir
from t2i_studio.engines import checkpoints, controlnet_files, starter

log = logging.getLogger(__name__)

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
SINGLE_FILE_PIPELINES = {"sd": "StableDiffusionPipeline", "sdxl": "StableDiffusionXLPipeline",
                         "sd3": "StableDiffusion3Pipeline", "flux": "FluxPipeline"}
CONTROLNET_FILES = ("config.json", "diffusion_pytorch_model.safetensors")  # a hub ControlNet's, as it loads
_SKIP = ("*.ckpt", "*.bin", "*.pt", "*.pth", "*.onnx", "*.onnx_data", "*.msgpack", "*.h5", "*.pb",
         "*.fp16.*", "*.bf16.*", "*.flax*", "*.mlpackage/*", "*.png", "*.jpg", "*.md")


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from. ``key`` identifies the weights (same key = same weights)."""

    kind: str  # "hub" | "folder" | "file"
    id: str  # what the request named
    path: Path | None
    revision: str | None = None
    config: Path | None = None
    family: str = "unknown"
    pipeline_class: str = ""

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.kind, str(self.path or self.id), self.revision, str(self.config or ""))

    @property
    def name(self) -> str:
        if self.kind == "hub":
            return self.id.split("/")[-1]
        assert self.path is not None
        return self.path.stem if self.kind == "file" else self.path.name


def _not_found(model: str) -> EngineError:
    return EngineError(f"Model not found: {model!r} is neither a file, a diffusers folder nor a "
                       "Hugging Face id (owner/name).",
                       hint="Check the path, or list known models with `t2i-studio models list`.")


def resolve(model: str, revision: str | None = None, config: str | None = None,
            allow_unsafe: bool = False) -> ModelSource:
    """Work out what ``model`` names; raise EngineError with a one-line reason when it is unusable."""
    model = model.strip()
    path = Path(model).expanduser()
    config_path = Path(config).expanduser() if config else None
    if config_path is not None and not (config_path / "model_index.json").is_file():
        raise EngineError(f"Config folder {config_path} has no model_index.json.",
                          hint="Give a diffusers folder (or hub snapshot) of the same architecture.")
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            single = sorted(path.glob("*.safetensors"))
            hint = f" It holds {single[0].name}: pass that file instead." if single else ""
            raise EngineError(f"{path} is not a diffusers model folder (no model_index.json).{hint}")
        cls = checkpoints.folder_class(path)
        return ModelSource("folder", model, path.resolve(), family=checkpoints.family_from_class(cls),
                           pipeline_class=cls)
    if path.is_file():
        checkpoints.check_checkpoint(path, allow_unsafe)
        if config_path is not None:
            cls = checkpoints.folder_class(config_path)
            family = checkpoints.family_from_class(cls)
        else:
            keys = checkpoints.safetensors_keys(path) if checkpoints.sniff(path) == "safetensors" else []
            family = checkpoints.family_from_keys(keys) if keys else "sd"
            cls = SINGLE_FILE_PIPELINES.get(family, "")
            if not cls:
                raise EngineError(f"Cannot tell which model family {path.name} is.",
                                  hint="Pass --config with a diffusers folder of the same architecture.")
        return ModelSource("file", model, path.resolve(), config=config_path, family=family,
                           pipeline_class=cls)
    if HUB_ID.match(model) and not model.startswith((".", "~")):
        return ModelSource("hub", model, None, revision=revision)
    raise _not_found(model)


# --- the Hugging Face hub ----------------------------------------------------------------------

def cached_snapshot(repo_id: str, revision: str | None) -> Path | None:
    """The local snapshot folder of a cached hub pipeline, or None."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "model_index.json", revision=revision)
    return Path(found).parent if isinstance(found, str) else None


def _wanted(files: list[str]) -> list[str]:
    """The files of a diffusers repo a pipeline load needs: configs, tokenizers, safetensors weights;
    of a one-model repo (a ControlNet), its config and safetensors weights."""
    if "model_index.json" not in files:
        return list(CONTROLNET_FILES) if all(name in files for name in CONTROLNET_FILES) else []
    keep = []
    for name in files:
        if "/" not in name and name != "model_index.json" and not name.endswith(".json"):
            continue  # root-level single-file checkpoints duplicate the components
        if any(fnmatch.fnmatch(name, pat) for pat in _SKIP):
            continue
        keep.append(name)
    return keep


def _repo_files(repo_id: str, revision: str | None) -> tuple[list[tuple[str, int]], str]:
    from huggingface_hub import HfApi

    try:
        info = HfApi().model_info(repo_id, revision=revision, files_metadata=True)
    except Exception as exc:  # noqa: BLE001 - network, auth, missing repo: all user-facing
        if _offline(exc):
            raise _offline_error(exc) from exc
        raise EngineError(f"Cannot reach model {repo_id!r} on the Hugging Face hub: "
                          f"{type(exc).__name__}.", hint="Check the id, your network, or log in with "
                          "`hf auth login` for gated models.", details=str(exc)) from exc
    sizes = {s.rfilename: int(s.size or 0) for s in info.siblings or []}
    wanted = _wanted(list(sizes))
    if not wanted:
        raise EngineError(f"{repo_id} is neither a diffusers pipeline repository (no model_index.json) nor a "
                          "ControlNet with safetensors weights.",
                          hint="Download its .safetensors file and pass the file instead.")
    return [(name, sizes[name]) for name in wanted], str(info.sha)


def _offline(exc: BaseException) -> bool:
    """Offline mode (HF_HUB_OFFLINE), said plainly rather than as the hub client's exception."""
    return any(cls.__name__ == "OfflineModeIsEnabled" for cls in type(exc).__mro__)


def _offline_error(exc: BaseException) -> EngineError:
    return EngineError("You are offline: models cannot be downloaded now.",
                       hint="Connect to the internet and try again, or add a model folder or .safetensors "
                            "file you already have.", details=str(exc))


def _counting_tqdm(report: Callable[[int], None], cancel: CancelToken):
    from huggingface_hub.utils import tqdm as hf_tqdm

    class CountingTqdm(hf_tqdm):  # type: ignore[misc, valid-type]
        monitor_interval = 0  # no monitor thread

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self._done = int(kwargs.get("initial") or 0)
            report(self._done)

        def update(self, n: float | None = 1) -> bool | None:
            cancel.raise_if_cancelled()
            self._done += int(n or 0)
            report(self._done)
            return None

    return CountingTqdm


def download(repo_id: str, revision: str | None, on_progress: ByteProgress,
             cancel: CancelToken) -> Path:
    """Download a pipeline into the standard HF cache with byte progress; interrupted files resume."""
    from huggingface_hub import hf_hub_download

    files, sha = _repo_files(repo_id, revision)
    total = sum(size for _, size in files)
    done_before = 0
    for name, size in files:
        cancel.raise_if_cancelled()
        base = done_before
        tqdm_class = _counting_tqdm(lambda n, base=base: on_progress(min(base + n, total), total), cancel)
        try:
            hf_hub_download(repo_id, name, revision=sha, tqdm_class=tqdm_class)
        except EngineError:
            raise
        except Exception as exc:
            if isinstance(exc, Cancelled) or cancel.cancelled:
                raise Cancelled() from exc
            if _offline(exc):
                raise _offline_error(exc) from exc
            raise EngineError(f"Download of {repo_id}/{name} failed: {type(exc).__name__}.",
                              hint="Run the same command again: finished files are kept and the "
                                   "interrupted one resumes.", details=str(exc)) from exc
        done_before += size
        on_progress(done_before, total)
    snapshot = cached_snapshot(repo_id, sha) or controlnet_files.cached(repo_id, sha)
    if snapshot is None:
        raise EngineError(f"Downloaded {repo_id} but cannot find it in the cache {hf_cache_dir()}.")
    return snapshot


# --- loading -----------------------------------------------------------------------------------

def load_pipeline(source: ModelSource, dtype: Any, allow_unsafe: bool = False,
                  on_bytes: ByteProgress | None = None, cancel: CancelToken | None = None) -> Any:
    """Load a text-to-image pipeline on the CPU in ``dtype``; EngineError on any user-facing failure."""
    import diffusers

    _quiet_libraries()
    cancel = cancel or CancelToken()
    kwargs: dict[str, Any] = {"dtype": dtype}
    try:
        if source.kind == "file":
            assert source.path is not None
            cls = getattr(diffusers, source.pipeline_class, None) or diffusers.StableDiffusionPipeline
            if source.config is not None:
                kwargs.update(config=str(source.config), local_files_only=True)
            pipe = cls.from_single_file(str(source.path), **kwargs)
            _check_all_weights_loaded(pipe, source)
        else:
            folder = source.path
            if source.kind == "hub":
                folder = cached_snapshot(source.id, source.revision)
                if folder is None:
                    from huggingface_hub import constants

                    if constants.HF_HUB_OFFLINE:
                        raise EngineError(f"Model {source.id} is not in the Hugging Face cache and the "
                                          "hub is offline.",
                                          hint=f"Download it first: t2i-studio models download {source.id}")
                    folder = download(source.id, source.revision, on_bytes or (lambda d, t: None), cancel)
            assert folder is not None
            index = (folder / "model_index.json").read_text(encoding="utf-8")
            if '"safety_checker"' in index:
                kwargs.update(safety_checker=None, requires_safety_checker=False)
            pipe = diffusers.DiffusionPipeline.from_pretrained(
                # allowed pickles: safetensors still preferred where the folder has both (None), never off
                str(folder), local_files_only=True, use_safetensors=None if allow_unsafe else True, **kwargs)
    except (EngineError, Cancelled):  # a download the user cancelled is not a broken model
        raise
    except Exception as exc:  # diffusers raises many types for unusable weights; all user-facing
        from t2i_studio.engines.devices import is_out_of_memory

        if is_out_of_memory(exc):
            raise
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = ""
        if "safetensors" in text.lower() and not allow_unsafe and source.kind != "file":
            hint = "This model ships only pickle weights (.bin). " + checkpoints.PICKLE_RISK
        raise EngineError(f"Could not load model {source.id}: {text}", hint=hint,
                          details=repr(exc)) from exc
    if not hasattr(pipe, "vae"):
        raise EngineError(f"{source.id} is a {type(pipe).__name__}, not a text-to-image pipeline.")
    return pipe


def _check_all_weights_loaded(pipe: Any, source: ModelSource) -> None:
    """diffusers' single-file loader leaves a weight it cannot find in the checkpoint empty (on torch's
    meta device), which only fails later as "Cannot copy out of meta tensor": name it now instead."""
    import torch

    missing = [f"{name}.{key}" for name, module in pipe.components.items()
               if isinstance(module, torch.nn.Module)
               for key, tensor in [*module.named_parameters(), *module.named_buffers()] if tensor.is_meta]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise EngineError(f"Could not load model {source.id}: the checkpoint has no usable weights for "
                          f"{missing[0]}{more}.",
                          hint="The file is incomplete, or not of the architecture diffusers took it for; "
                               "pass --config with a diffusers folder of the same model.",
                          details=", ".join(missing))


def _quiet_libraries() -> None:
    """The app draws its own progress: no tqdm bars (nor their monitor threads) from the libraries."""
    import diffusers
    import tqdm
    import transformers

    tqdm.tqdm.monitor_interval = 0  # even a disabled bar would start tqdm's monitor thread
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    diffusers.utils.logging.set_verbosity_error()


# --- the catalog the UI's model picker uses ---------------------------------------------------

def _hub_info(repo_id: str, snapshot: Path, size: int) -> ModelInfo:
    """A cached hub repo: a pipeline (model_index.json), else a ControlNet; EngineError when neither."""
    name = repo_id.split("/")[-1]
    if (snapshot / "model_index.json").is_file():
        family = checkpoints.family_from_class(checkpoints.folder_class(snapshot))
        return ModelInfo(repo_id, name, "hub", family, size, str(snapshot))
    family = controlnet_files.family(snapshot)
    if family is None:
        raise EngineError(f"{repo_id} is neither a text-to-image pipeline nor a ControlNet.")
    return ModelInfo(repo_id, name, "hub", family, size, str(snapshot), kind=CONTROLNET)


class HubModelCatalog:
    """Implements ``core.catalog.ModelCatalog`` over the HF cache and the user's added models."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def list(self) -> list[ModelInfo]:
        found: list[ModelInfo] = []
        if starter.WEIGHTS.is_file():  # always first: chosen when nothing else is installed
            found.append(ModelInfo(starter.MODEL_ID, starter.NAME, "builtin", "starter",
                                   starter.WEIGHTS.stat().st_size, str(starter.WEIGHTS), engine=starter.ENGINE))
        cache = hf_cache_dir()
        if cache.is_dir():
            from huggingface_hub import scan_cache_dir

            try:
                repos = scan_cache_dir(cache).repos
            except Exception as exc:  # noqa: BLE001 - a corrupt cache must not break the list
                log.warning("Cannot scan the Hugging Face cache %s: %s", cache, exc)
                repos = frozenset()
            for repo in sorted(repos, key=lambda r: r.repo_id):
                if repo.repo_type != "model":
                    continue
                snapshot = cached_snapshot(repo.repo_id, None) or controlnet_files.cached(repo.repo_id, None)
                if snapshot is not None:
                    found.append(_hub_info(repo.repo_id, snapshot, int(repo.size_on_disk)))
        for entry in self.settings.models:
            try:
                found.append(self._info(entry))
            except (EngineError, OSError) as exc:
                log.info("Added model %s unusable: %s", entry, exc)
        names = self.settings.model_names
        return [dataclasses.replace(m, name=names[m.id]) if names.get(m.id) else m for m in found]

    def _info(self, path_text: str) -> ModelInfo:
        path = Path(path_text).expanduser().resolve()
        family = controlnet_files.family(path)
        if family is not None:
            return ModelInfo(str(path), path.stem if path.is_file() else path.name,
                             "file" if path.is_file() else "folder", family, checkpoints.folder_size(path),
                             str(path), kind=CONTROLNET)
        source = resolve(path_text)
        assert source.path is not None
        return ModelInfo(str(source.path), source.name, source.kind, source.family,
                         checkpoints.folder_size(source.path), str(source.path))

    def add(self, path: str) -> ModelInfo:
        if not Path(path).expanduser().exists():
            raise EngineError(f"Model not found: {path}")
        info = self._info(path)
        if info.id not in self.settings.models:
            self.settings.models.append(info.id)
            self.settings.save()
        return info

    def remove(self, model_id: str) -> str:
        if model_id in self.settings.models:
            self.settings.models.remove(model_id)
            self.settings.model_names.pop(model_id, None)
            self.settings.save()
            return f"Removed {model_id} from the list; its files are still on disk."
        from huggingface_hub import scan_cache_dir

        repos = {r.repo_id: r for r in scan_cache_dir(hf_cache_dir()).repos if r.repo_type == "model"}
        repo = repos.get(model_id)
        if repo is None:
            raise EngineError(f"{model_id} is neither an added model nor in the Hugging Face cache.")
        strategy = scan_cache_dir(hf_cache_dir()).delete_revisions(*(r.commit_hash for r in repo.revisions))
        strategy.execute()
        self.settings.model_names.pop(model_id, None)
        self.settings.save()
        return f"Deleted {model_id} from the Hugging Face cache ({strategy.expected_freed_size_str} freed)."

    def rename(self, model_id: str, name: str) -> None:
        if name.strip():
            self.settings.model_names[model_id] = name.strip()
        else:
            self.settings.model_names.pop(model_id, None)
        self.settings.save()

    def download(self, repo_id: str, revision: str | None, on_progress: ByteProgress,
                 cancel: CancelToken) -> ModelInfo:
        snapshot = download(repo_id, revision, on_progress, cancel)
        return _hub_info(repo_id, snapshot, checkpoints.folder_size(snapshot))

    def download_size(self, repo_id: str, revision: str | None) -> int | None:
        try:
            files, _ = _repo_files(repo_id, revision)
        except EngineError:
            return None
        return sum(size for _, size in files)

    def free_disk_bytes(self) -> int:
        folder = hf_cache_dir()
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return shutil.disk_usage(folder).free
