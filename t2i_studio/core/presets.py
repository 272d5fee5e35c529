"""Style presets: named prompt and negative-prompt templates, applied when a request is submitted.

A preset's text holds ``{prompt}`` where the typed text goes; one without it is appended after ", "
(AUTOMATIC1111's rule). The shipped set (``resources/presets/styles.csv``) and the user's own
(``styles.csv`` in the config folder) are both in A1111's format (name, prompt, negative_prompt), so
an A1111 ``styles.csv`` imports as it is. A user's preset of a shipped name stands in for it.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable

from t2i_studio.core import settings
from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.requests import GenerationRequest

log = logging.getLogger(__name__)

PLACEHOLDER = "{prompt}"
COLUMNS = ("name", "prompt", "negative_prompt")


@dataclass(frozen=True)
class Preset:
    name: str
    prompt: str = ""
    negative_prompt: str = ""
    shipped: bool = False

    def apply(self, prompt: str, negative_prompt: str) -> tuple[str, str]:
        return merge(self.prompt, prompt), merge(self.negative_prompt, negative_prompt)


def merge(template: str, text: str) -> str:
    """``text`` put into ``template`` at ``{prompt}``, or ``template`` appended after ", "."""
    if not template.strip():
        return text
    if PLACEHOLDER in template:
        return template.replace(PLACEHOLDER, text)
    return ", ".join(part for part in (text.strip(), template.strip()) if part)


def apply(request: GenerationRequest, presets: Iterable[Preset]) -> GenerationRequest:
    """The request with each preset applied to its prompts, in turn."""
    prompt, negative = request.prompt, request.negative_prompt
    for preset in presets:
        prompt, negative = preset.apply(prompt, negative)
    return request.replace(prompt=prompt, negative_prompt=negative)


def user_path() -> Path:
    return settings.config_dir() / "styles.csv"


def shipped() -> list[Preset]:
    text = resources.files("t2i_studio").joinpath("resources", "presets", "styles.csv").read_text("utf-8")
    return [Preset(p.name, p.prompt, p.negative_prompt, shipped=True) for p in parse_csv(text, "styles.csv")]


def user_presets() -> list[Preset]:
    """The user's own presets (none before the first is saved); ``ValueError`` for a damaged file."""
    path = user_path()
    return read_csv(path) if path.is_file() else []


def all_presets() -> list[Preset]:
    """The shipped presets, then the user's (one of a shipped name in its place). A damaged file of
    the user's is logged and left out, so the shipped ones are still offered."""
    chosen = {p.name: p for p in shipped()}
    try:
        chosen.update((p.name, p) for p in user_presets())
    except (OSError, ValueError) as exc:
        log.warning("Style presets in %s left out: %s", user_path(), exc)
    return list(chosen.values())


def find(names: Iterable[str], presets: list[Preset] | None = None) -> list[Preset]:
    """The presets called ``names`` (case does not matter); ``ValueError`` names the ones there are."""
    presets = all_presets() if presets is None else presets
    by_name = {p.name.casefold(): p for p in presets}
    found = []
    for name in names:
        preset = by_name.get(name.strip().casefold())
        if preset is None:
            raise ValueError(f"No style called {name!r}: use one of {', '.join(p.name for p in presets)}, "
                             "or import yours with `t2i-studio styles import FILE`.")
        found.append(preset)
    return found


def read_csv(path: Path) -> list[Preset]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # Excel and A1111's own files may start with a BOM
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text: save it as UTF-8 CSV and import it again.") from None
    return parse_csv(text, path.name)


def parse_csv(text: str, name: str) -> list[Preset]:
    """A1111's ``styles.csv``: a header naming ``name`` and ``prompt`` (older files: ``text``), and
    optionally ``negative_prompt``; rows without a name, or whose name starts with ``#``, are skipped."""
    reader = csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        columns, rows = reader.fieldnames or [], list(reader)
    except csv.Error as exc:
        raise ValueError(f"{name} is not a readable CSV file: {exc}.") from None
    prompt_column = "prompt" if "prompt" in columns else "text"
    if "name" not in columns or prompt_column not in columns:
        raise ValueError(f"{name} is not a styles.csv: its first line must name the columns "
                         f"name,prompt,negative_prompt (it has {','.join(columns) or 'none'}).")
    return [Preset(row["name"].strip(), row.get(prompt_column) or "", row.get("negative_prompt") or "")
            for row in rows if (row.get("name") or "").strip() and not row["name"].strip().startswith("#")]


def save_user(presets: Iterable[Preset]) -> Path:
    """Write the user's presets (A1111's format) atomically."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows((p.name, p.prompt, p.negative_prompt) for p in presets)
    path = user_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, buffer.getvalue().encode("utf-8"))
    return path


def import_csv(path: Path) -> list[Preset]:
    """Add the presets of an A1111 ``styles.csv`` to the user's own (one of the same name is replaced)."""
    imported = read_csv(path)
    if not imported:
        raise ValueError(f"{path.name} has no styles in it.")
    kept = {p.name: p for p in user_presets()}
    kept.update((p.name, p) for p in imported)
    save_user(kept.values())
    return imported
