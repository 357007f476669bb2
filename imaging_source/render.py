"""Rendering one frame of an image instance as JPEG (PS3.18 9.4 URI Service image/jpeg; the consumer-side
rendering of PS3.18 8.3.5.1: modality LUT, VOI window, photometric interpretation, region, size)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import dcmread
from pydicom.pixels import apply_modality_lut


class CannotRender(ValueError):
    pass


@dataclass(frozen=True)
class RenderOptions:
    frame: int = 1  # 1-based (PS3.18 frameNumber)
    rows: int | None = None
    columns: int | None = None
    window_center: float | None = None
    window_width: float | None = None
    region: tuple[float, float, float, float] | None = None  # xmin, ymin, xmax, ymax, fractions of the image
    quality: int = 90


def _window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    # PS3.3 C.11.2.1.2.1: the linear VOI LUT function
    width = max(width, 1.0)
    low = center - 0.5 - (width - 1) / 2
    scaled = (values - low) / (width - 1) * 255.0
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _first(value: object) -> float | None:
    """The first value of a (possibly multi-valued) DS attribute such as Window Center."""
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        value = next(iter(value), None)  # type: ignore[call-overload]
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def render_jpeg(path: Path, options: RenderOptions) -> bytes:
    try:
        ds = dcmread(path)
        if "PixelData" not in ds:
            raise CannotRender("the instance holds no pixel data")
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        if not 1 <= options.frame <= frames:
            raise CannotRender(f"frame {options.frame} of {frames}")
        pixels = ds.pixel_array
        if frames > 1:
            pixels = pixels[options.frame - 1]
        photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
        if ds.get("SamplesPerPixel", 1) == 1:
            values = apply_modality_lut(pixels, ds).astype(np.float64)
            center = (
                options.window_center if options.window_center is not None else _first(ds.get("WindowCenter"))
            )
            width = (
                options.window_width if options.window_width is not None else _first(ds.get("WindowWidth"))
            )
            if center is None or width is None:
                low, high = float(values.min()), float(values.max())
                center, width = (low + high) / 2, max(high - low, 1.0)
            gray = _window(values, center, width)
            if photometric == "MONOCHROME1":
                gray = 255 - gray
            image = Image.fromarray(gray, mode="L")
        else:
            if photometric != "RGB":
                from pydicom.pixels import convert_color_space

                pixels = convert_color_space(pixels, photometric, "RGB")
            image = Image.fromarray(pixels.astype(np.uint8), mode="RGB")
    except CannotRender:
        raise
    except Exception as exc:  # pydicom/numpy raise many kinds for pixel data they cannot decode
        raise CannotRender(str(exc)) from exc
    if options.region is not None:
        x0, y0, x1, y1 = options.region
        w, h = image.size
        image = image.crop((round(x0 * w), round(y0 * h), round(x1 * w), round(y1 * h)))
    if options.rows or options.columns:
        # PS3.18 9.4 rows/columns: the largest size that fits, keeping the aspect ratio
        w, h = image.size
        scale = min((options.columns or w * 1e9) / w, (options.rows or h * 1e9) / h)
        image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=options.quality)
    return out.getvalue()
