"""Images given beside the turns: LLaMA-Factory's multimodal layout, ``{"messages" | "conversations":
[... "<image>What is this?" ...], "images": ["path/1.jpg", ...]}`` (one ``<image>`` per image, in order).

Each ``<image>`` becomes an ``image_url`` part at its place in the turn, so the image travels with the
conversation, dedup tells two records about different images apart, and exporters see it (a provider that
takes no images refuses the record by name). When the counts differ the record is left as it is and the
checks report the ``<image>`` placeholder that has no image (``image_missing``): a model trained on it
would learn to talk about a picture it never saw.
"""

from __future__ import annotations

import re
from typing import Any

TOKEN = "<image>"


def _split(text: str, urls: list[str]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    pieces = text.split(TOKEN)
    for i, piece in enumerate(pieces):
        if i > 0:
            parts.append({"type": "image_url", "image_url": {"url": urls.pop(0)}})
        if piece.strip():
            parts.append({"type": "text", "text": piece.strip()})
    return parts


_IMAGE_SUFFIXES = r"\.(?:jpe?g|png|gif|webp|bmp|tiff?)$"
_IMAGE_REF = re.compile(r"(?:://|^data:image/|" + _IMAGE_SUFFIXES + ")", re.I)
_IMAGE_NAME = re.compile(_IMAGE_SUFFIXES, re.I)


def is_image_file(name: Any, kind: Any = None) -> bool:
    """Whether an uploaded file is an image, by its MIME type (``image/png``) or else its name's suffix."""
    if isinstance(kind, str) and kind.lower().startswith("image/"):
        return True
    return isinstance(name, str) and bool(_IMAGE_NAME.search(name.strip()))


def _image_ref(value: Any) -> bool:
    """A path or URL of an image, not a caption ("cat on mat, high quality") kept in a field of that name."""
    return isinstance(value, str) and 0 < len(value) < 4096 and "\n" not in value and bool(
        _IMAGE_REF.search(value.strip()))


def image_paths(value: Any) -> list[str] | None:
    """LLaVA-family sets keep one image in ``image`` (a path, a list of paths, or ``{"path": ...}``); as a list."""
    if _image_ref(value):
        return [value]
    if isinstance(value, dict) and _image_ref(value.get("path")):
        return [value["path"]]
    if isinstance(value, list) and value and all(_image_ref(v) for v in value):
        return value
    return None


def attach_images(body: dict[str, Any], images: Any) -> bool:
    """Put ``images`` in place of the ``<image>`` tokens of the body's turns; False (body untouched) when
    the images are not a list of paths or their number is not the number of tokens."""
    if not isinstance(images, list) or not images or not all(isinstance(i, str) for i in images):
        return False
    turns = [m for side in ("messages", "prompt") if isinstance(body.get(side), list) for m in body[side]]
    tokens = sum(m["content"].count(TOKEN) for m in turns if isinstance(m, dict) and isinstance(m.get("content"), str))
    if tokens != len(images):
        return False
    urls = list(images)
    for message in turns:
        if isinstance(message, dict) and isinstance(message.get("content"), str) and TOKEN in message["content"]:
            message["content"] = _split(message["content"], urls)
    return True
