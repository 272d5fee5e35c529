"""A small XMP packet: IPTC digital source type, creator tool, description, and our JSON.

Written into PNG (iTXt ``XML:com.adobe.xmp``), JPEG/WebP/TIFF exports; read back leniently with a
size limit and without an XML parser that could expand entities (regular expressions only).
"""

from __future__ import annotations

import functools
import html
import re
from datetime import datetime

from t2i_studio import APP_NAME, __version__

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
XMP_KEY = "XML:com.adobe.xmp"
MAX_XMP_BYTES = 4 * 2**20
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: str) -> str:
    return html.escape(_INVALID_XML.sub("", text), quote=True)


def build_xmp(*, description: str = "", created: datetime | None = None, data_json: str | None = None,
              source_type: str | None = TRAINED_ALGORITHMIC_MEDIA, parameters: str | None = None) -> str:
    """The XMP packet text. ``data_json`` (our t2i_studio JSON) goes in ``t2istudio:data``."""
    attrs = [f'xmp:CreatorTool="{_esc(f"{APP_NAME} {__version__}")}"']
    if created is not None:
        attrs.append(f'xmp:CreateDate="{created.isoformat(timespec="seconds")}"')
    if source_type:
        attrs.append(f'Iptc4xmpExt:DigitalSourceType="{_esc(source_type)}"')
    if data_json is not None:
        attrs.append(f't2istudio:data="{_esc(data_json)}"')
    body = ""
    if description:
        body += ("   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">"
                 f"{_esc(description)}</rdf:li></rdf:Alt></dc:description>\n")
    if parameters:
        body += f"   <exif:UserComment><rdf:Alt><rdf:li xml:lang=\"x-default\">{_esc(parameters)}" \
                "</rdf:li></rdf:Alt></exif:UserComment>\n"
    joined = "\n    ".join(attrs)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '    xmlns:exif="http://ns.adobe.com/exif/1.0/"\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:t2istudio="https://github.com/t2istudio/ns/1.0/"\n'
        f"    {joined}>\n{body}  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


@functools.lru_cache(maxsize=32)
def _patterns(name: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    n = re.escape(name)
    return (re.compile(rf'{n}\s*=\s*"([^"]*)"'), re.compile(rf"<{n}>([^<]*)</{n}>"),
            re.compile(rf"<{n}>\s*<rdf:Alt>\s*<rdf:li[^>]*>(.*?)</rdf:li>", re.S))


def _attr(xmp: str, name: str) -> str | None:
    attr, element, _alt_ = _patterns(name)
    match = attr.search(xmp) or element.search(xmp)
    return html.unescape(match.group(1)) if match else None


def _alt(xmp: str, name: str) -> str | None:
    match = _patterns(name)[2].search(xmp)
    return html.unescape(match.group(1)) if match else None


def parse_xmp(packet: bytes | str) -> dict[str, str]:
    """The fields we understand from an XMP packet (missing ones are absent); never raises."""
    if isinstance(packet, bytes):
        if len(packet) > MAX_XMP_BYTES:
            return {}
        packet = packet.decode("utf-8", "replace")
    elif len(packet) > MAX_XMP_BYTES:
        return {}
    out: dict[str, str] = {}
    for key, name in (("source_type", "Iptc4xmpExt:DigitalSourceType"), ("creator_tool", "xmp:CreatorTool"),
                      ("t2i_studio", "t2istudio:data"), ("created", "xmp:CreateDate")):
        value = _attr(packet, name)
        if value is not None:
            out[key] = value
    for key, name in (("description", "dc:description"), ("parameters", "exif:UserComment")):
        value = _alt(packet, name)
        if value is not None:
            out[key] = value
    return out
