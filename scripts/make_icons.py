"""Generate the app icon: one SVG source -> PNGs (16..512), a Windows .ico and a macOS .icns.

Run from the repo root:  .venv/bin/python scripts/make_icons.py
Outputs (committed): src/aicost_desktop/resources/icons/aicost-desktop{.svg,-N.png},
resources/aicost-desktop.ico, resources/aicost-desktop.icns. Needs only PySide6 (QtSvg), offscreen.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PKG_ICONS = ROOT / "src" / "aicost_desktop" / "resources" / "icons"
TOP = ROOT / "resources"
NAME = "aicost-desktop"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

# A teal rounded square, three rising bars (spend over time) and a gold coin. No text, so it
# renders the same everywhere and stays legible at 16 px.
SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <title>AI Cost Tracker</title>
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#14b8a6"/>
      <stop offset="1" stop-color="#0f766e"/>
    </linearGradient>
    <linearGradient id="coin" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#fde68a"/>
      <stop offset="1" stop-color="#f59e0b"/>
    </linearGradient>
  </defs>
  <rect x="8" y="8" width="240" height="240" rx="52" ry="52" fill="url(#bg)"/>
  <rect x="44" y="148" width="40" height="64" rx="8" fill="#ffffff" fill-opacity="0.95"/>
  <rect x="100" y="116" width="40" height="96" rx="8" fill="#ffffff" fill-opacity="0.95"/>
  <rect x="156" y="132" width="40" height="80" rx="8" fill="#ffffff" fill-opacity="0.55"/>
  <circle cx="170" cy="78" r="46" fill="url(#coin)" stroke="#b45309" stroke-width="8"/>
  <circle cx="170" cy="78" r="26" fill="none" stroke="#b45309" stroke-width="8"/>
</svg>
"""


def render(renderer: QSvgRenderer, size: int) -> bytes:
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(p)
    p.end()
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    buf.close()
    return bytes(ba.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Vista+ .ico whose entries are PNG streams (16..256)."""
    sizes = [s for s in (16, 24, 32, 48, 64, 128, 256) if s in pngs]
    out = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    body = b""
    for s in sizes:
        data = pngs[s]
        out += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(data), offset + len(body))
        body += data
    return out + body


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns with PNG-encoded entries (what iconutil writes for these types)."""
    types = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}
    chunks = b"".join(t + struct.pack(">I", 8 + len(pngs[s])) + pngs[s] for s, t in types.items())
    return b"icns" + struct.pack(">I", 8 + len(chunks)) + chunks


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - keeps Qt alive
    PKG_ICONS.mkdir(parents=True, exist_ok=True)
    TOP.mkdir(parents=True, exist_ok=True)
    (PKG_ICONS / f"{NAME}.svg").write_text(SVG, encoding="utf-8")
    renderer = QSvgRenderer(QByteArray(SVG.encode()))
    if not renderer.isValid():
        print("error: the SVG did not parse", file=sys.stderr)
        return 1
    pngs = {s: render(renderer, s) for s in PNG_SIZES}
    for s, data in pngs.items():
        (PKG_ICONS / f"{NAME}-{s}.png").write_bytes(data)
    (TOP / f"{NAME}.ico").write_bytes(ico(pngs))
    (TOP / f"{NAME}.icns").write_bytes(icns(pngs))
    print(f"wrote {len(pngs)} PNGs + SVG to {PKG_ICONS.relative_to(ROOT)}, .ico/.icns to {TOP.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
