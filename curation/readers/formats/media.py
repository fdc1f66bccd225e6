"""Images given beside the turns: LLaMA-Factory's multimodal layout, ``{"messages" | "conversations":
[... "<image>What is this?" ...], "images": ["path/1.jpg", ...]}`` (one ``<image>`` per image, in order).

Each ``<image>`` (or ``{"type": "image"}`` part) becomes an ``image_url`` part at its place in the turn, and
images with no place marked open the first user turn, so the image travels with the
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


def image_source(part: dict[str, Any]) -> tuple[str, str] | None:
    """Where an image part names its file (Qwen-VL's and Hugging Face processors' ``{"type": "image", "image" |
    "url" | "path": ...}``): (key, path or URL), or None for a bare placeholder."""
    for key in ("image", "url", "path", "image_url"):
        value = part.get(key)
        if isinstance(value, str) and value.strip():
            return key, value
    return None


def _placeholder(part: Any) -> bool:
    """TRL's and Hugging Face's ``{"type": "image"}``: the place of the next image of the record's ``images``."""
    return isinstance(part, dict) and part.get("type") == "image" and image_source(part) is None


def attach_images(body: dict[str, Any], images: Any) -> bool:
    """Put ``images`` in place of the ``<image>`` tokens of the body's turns, or of its ``{"type": "image"}``
    parts; with neither, before the first user turn's text (ms-swift's and torchtune's convention, the one
    Qwen-VL and LLaVA templates render). False (body untouched) when the images are not a list of paths or
    their number is not the number of places, which the checks then report (``image_missing``)."""
    if isinstance(images, list) and images and all(isinstance(i, dict) and not i.get("bytes") and isinstance(
            i.get("path"), str) and i["path"] for i in images):
        images = [i["path"] for i in images]  # a Hugging Face Sequence(Image()) column of files: {bytes, path}
    if not isinstance(images, list) or not images or not all(isinstance(i, str) for i in images):
        return False
    turns = [m for side in ("messages", "prompt") if isinstance(body.get(side), list) for m in body[side]]
    texts = [m for m in turns if isinstance(m, dict) and isinstance(m.get("content"), str)]
    tokens = sum(m["content"].count(TOKEN) for m in texts)
    parted = [m for m in turns if isinstance(m, dict) and isinstance(m.get("content"), list)]
    places = sum(1 for m in parted for p in m["content"] if _placeholder(p))
    urls = list(images)
    if tokens and not places:
        if tokens != len(images):
            return False
        for message in texts:
            if TOKEN in message["content"]:
                message["content"] = _split(message["content"], urls)
        return True
    if places and not tokens:
        if places != len(images):
            return False
        for message in parted:
            message["content"] = [{"type": "image_url", "image_url": {"url": urls.pop(0)}} if _placeholder(p) else p
                                  for p in message["content"]]
        return True
    first_user = next((m for m in turns if isinstance(m, dict) and m.get("role") in ("user", "human")), None)
    if tokens or places or first_user is None:
        return False
    content = first_user.get("content")
    if isinstance(content, str):
        text = [{"type": "text", "text": content}] if content.strip() else []
    elif isinstance(content, list):
        text = content
    else:
        return False
    first_user["content"] = [*({"type": "image_url", "image_url": {"url": u}} for u in urls), *text]
    return True


_IMG_TAG = re.compile(r"(?:Picture \d+: ?)?<img>([^<>\n]{1,4096})</img>\n?")


def inline_image_tags(body: dict[str, Any]) -> None:
    """Qwen-VL's markup, ``Picture 1: <img>path or URL</img>`` in a turn's text, as ``image_url`` parts at their
    place; a tag whose inside is no image path or URL stays text."""
    for side in ("messages", "prompt"):
        turns = body.get(side)
        if not isinstance(turns, list):
            continue
        for message in turns:
            content = message.get("content") if isinstance(message, dict) else None
            if not isinstance(content, str) or "<img>" not in content:
                continue
            parts: list[dict[str, Any]] = []
            last = 0
            for match in _IMG_TAG.finditer(content):
                if not _image_ref(match.group(1).strip()):
                    continue
                if content[last:match.start()].strip():
                    parts.append({"type": "text", "text": content[last:match.start()].strip()})
                parts.append({"type": "image_url", "image_url": {"url": match.group(1).strip()}})
                last = match.end()
            if parts:
                if content[last:].strip():
                    parts.append({"type": "text", "text": content[last:].strip()})
                message["content"] = parts
