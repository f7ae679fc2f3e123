#!/usr/bin/env bash
# Package the PyInstaller .app into a compressed, drag-to-Applications .dmg (macOS, hdiutil).
# Usage: bash installer/macos/make_dmg.sh "dist/AI Cost Tracker.app" dist/AI-Cost-Tracker-0.1.0.dmg
# Env:   AICOST_CODESIGN_IDENTITY="Developer ID Application: ..."  sign the app first (optional);
#        notarize afterwards with: xcrun notarytool submit DMG --wait ...; xcrun stapler staple DMG
set -euo pipefail

APP=${1:?usage: make_dmg.sh APP DMG}
DMG=${2:?usage: make_dmg.sh APP DMG}
VOLNAME="AI Cost Tracker"

[ -d "$APP" ] || { echo "error: $APP not found (build it with installer/build.sh)" >&2; exit 1; }
command -v hdiutil >/dev/null || { echo "error: hdiutil is macOS-only" >&2; exit 1; }

if [ -n "${AICOST_CODESIGN_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp --sign "$AICOST_CODESIGN_IDENTITY" "$APP"
    codesign --verify --deep --strict "$APP"
fi

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "$VOLNAME" -srcfolder "$STAGE" -fs HFS+ -format UDZO -imagekey zlib-level=9 -ov "$DMG"
hdiutil verify "$DMG"
echo "dmg: $DMG ($(du -h "$DMG" | cut -f1))"
