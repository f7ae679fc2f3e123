#!/usr/bin/env bash
# Build the frozen app and its installer into dist/:
#   dist/aicost-desktop/                          one-folder bundle (aicost-desktop + aicost)
#   dist/aicost-desktop_<version>_<arch>.deb      Linux (when dpkg-deb exists)
#   dist/AI-Cost-Tracker-<version>.dmg            macOS (installer/macos/make_dmg.sh)
# Windows: run PyInstaller with the same spec, then ISCC installer/windows/aicost.iss (see README).
#
# Usage: bash installer/build.sh [--reuse] [--no-deb]
#   --reuse   keep dist/aicost-desktop (and the .deb packed from it) when newer than every source file
#   --no-deb  only the bundle
# Env: PYTHON (interpreter for .venv), AICOST_DEB_COMPRESSION (xz|gzip|zstd|none, default xz),
#      AICOST_NO_STRIP=1 (keep debug symbols)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

REUSE=0
DEB=1
for arg in "$@"; do
    case "$arg" in
        --reuse) REUSE=1 ;;
        --no-deb) DEB=0 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done

log() { printf '[build] %s\n' "$*" >&2; }

# One build at a time in this tree: parallel test workers (pytest-xdist) may each ask for the bundle;
# the second waits here, then finds the first one's bundle and package fresh and reuses both.
if command -v flock >/dev/null 2>&1; then
    mkdir -p "$ROOT/dist"
    exec 9>"$ROOT/dist/.build.lock"
    flock 9
fi

# shellcheck source=../scripts/_venv.sh
. scripts/_venv.sh
ensure_venv
# Reuse a current run/test install (no editable reinstall under a running test session); add
# PyInstaller and the PostgreSQL driver (both bundled) when they are missing.
if stamp_current .aicost-installed-test || stamp_current .aicost-installed-run || stamp_current .aicost-installed-build; then
    "$VENV/bin/python" -c 'import PyInstaller, psycopg' 2>/dev/null \
        || venv_install "pyinstaller>=6.5" "psycopg[binary]>=3.1"
else
    ensure_installed .aicost-installed-build ".[build,postgres]"
fi
case "$VENV" in /*) PY="$VENV/bin/python" ;; *) PY="$ROOT/$VENV/bin/python" ;; esac

VERSION=$("$PY" -c 'import aicost_desktop; print(aicost_desktop.__version__)')
BUNDLE="$ROOT/dist/aicost-desktop"
OS=$(uname -s)

# --- 1. the PyInstaller bundle -----------------------------------------------------------------
# Exists only after a build completed (PyInstaller and strip), so --reuse never takes the half-written
# bundle of an interrupted build; it carries the build's start time, so a source edited during the
# build makes the bundle stale.
DONE="$ROOT/dist/.aicost-desktop.complete"
fresh_bundle() {
    local exe="$BUNDLE/aicost-desktop"
    [ "$OS" = Darwin ] && exe="$ROOT/dist/AI Cost Tracker.app/Contents/MacOS/aicost-desktop"
    [ -x "$exe" ] && [ -f "$DONE" ] || return 1
    # Anything newer than the bundle (sources, data, spec, icons, dependencies) makes it stale.
    [ -z "$(find src installer resources pyproject.toml -newer "$DONE" -type f \
              -not -path '*/__pycache__/*' -not -name '*.pyc' 2>/dev/null | head -1)" ]
}

if [ "$REUSE" = 1 ] && fresh_bundle; then
    log "dist/aicost-desktop is up to date: reusing it"
else
    log "PyInstaller: building aicost-desktop $VERSION"
    start=$(date +%s)
    rm -f "$DONE"
    mkdir -p "$ROOT/dist"
    touch "$DONE.start"
    "$PY" -m PyInstaller --noconfirm --log-level WARN \
        --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" installer/aicost_desktop.spec
    if [ "$OS" = Linux ] && [ "${AICOST_NO_STRIP:-0}" != 1 ] && command -v strip >/dev/null; then
        # Debug sections only (libpython from pyenv/setup-python carries ~20 MB of them). Libraries
        # vendored by auditwheel (*.libs/) are left alone: strip can break patchelf'ed files.
        find "$BUNDLE" -type f -name '*.so*' -not -path '*.libs/*' -print0 \
            | xargs -0 strip --strip-debug 2>/dev/null || true
    fi
    mv -f "$DONE.start" "$DONE"
    log "bundle built in $(( $(date +%s) - start )) s"
fi
log "bundle size: $(du -sh "$BUNDLE" | cut -f1) ($BUNDLE)"

# --- 2. the platform installer ---------------------------------------------------------------------
build_deb() {
    local arch stage pkg deps
    arch=$(dpkg --print-architecture)
    stage="$ROOT/build/deb/aicost-desktop"
    pkg="$ROOT/dist/aicost-desktop_${VERSION}_${arch}.deb"
    if [ "$REUSE" = 1 ] && [ -f "$pkg" ] && [ "$pkg" -nt "$DONE" ]; then
        # Packed from this very bundle after it completed (a test may be installing it right now).
        log "package: $pkg is up to date: reusing it"
        return 0
    fi
    rm -rf "$stage"
    mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
             "$stage/usr/share/doc/aicost-desktop"
    cp -a "$BUNDLE" "$stage/opt/aicost-desktop"
    find "$stage/opt" -name '__pycache__' -type d -prune -exec rm -rf {} +

    for exe in aicost-desktop aicost; do
        printf '#!/bin/sh\nexec /opt/aicost-desktop/%s "$@"\n' "$exe" > "$stage/usr/bin/$exe"
        chmod 0755 "$stage/usr/bin/$exe"
    done
    install -m 0644 resources/aicost-desktop.desktop "$stage/usr/share/applications/aicost-desktop.desktop"
    local icons=src/aicost_desktop/resources/icons size
    for size in 16 24 32 48 64 128 256 512; do
        install -D -m 0644 "$icons/aicost-desktop-$size.png" \
            "$stage/usr/share/icons/hicolor/${size}x${size}/apps/aicost-desktop.png"
    done
    install -D -m 0644 "$icons/aicost-desktop.svg" "$stage/usr/share/icons/hicolor/scalable/apps/aicost-desktop.svg"
    printf 'AI Cost Tracker Desktop\nLicense: MIT\nBundled third-party components keep their own licenses (see /opt/aicost-desktop/_internal).\n' \
        > "$stage/usr/share/doc/aicost-desktop/copyright"

    deps=$(system_depends "$stage/opt/aicost-desktop")
    cat > "$stage/DEBIAN/control" <<EOF
Package: aicost-desktop
Version: $VERSION
Architecture: $arch
Maintainer: AI Cost Tracker developers <aicost@users.noreply.github.com>
Section: utils
Priority: optional
Installed-Size: $(du -sk "$stage" | cut -f1)
Depends: ${deps}
Suggests: gnome-keyring
Homepage: https://github.com/aicost/aicost-desktop
Description: local-first tracker of AI API and subscription spend
 AI Cost Tracker keeps one local ledger of what you spend on AI providers
 (API usage, agent logs, subscriptions), with budgets, alerts, analytics and
 a system tray icon. Includes the aicost command-line tool.
EOF
    cat > "$stage/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
fi
exit 0
EOF
    cat > "$stage/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
case "$1" in
    remove|purge)
        # Files the app wrote next to itself (Python byte-code caches); user data in the home
        # directory (~/.local/share/aicost_desktop) is never touched.
        rm -rf /opt/aicost-desktop
        command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
        command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
        ;;
esac
exit 0
EOF
    chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"

    local comp="${AICOST_DEB_COMPRESSION:-xz}"
    rm -f "$pkg"
    log "dpkg-deb: packaging ($comp)"
    dpkg-deb --root-owner-group -Z"$comp" --build "$stage" "$pkg" >/dev/null
    log "package: $pkg ($(du -h "$pkg" | cut -f1)); Depends: $deps"
}

# The Debian packages providing the libraries the bundle loads from the system (libc, GL, ...).
system_depends() {
    local dir=$1 lib pkgs=()
    local ld_path="$dir/_internal:$dir/_internal/PySide6/Qt/lib"
    while read -r lib; do
        local owner=""
        for cand in "$lib" "$(readlink -f "$lib")" "/usr$lib" "${lib#/usr}"; do
            owner=$(dpkg -S "$cand" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$owner" ] && break
        done
        [ -n "$owner" ] && pkgs+=("$owner")
    done < <(find "$dir" -type f \( -name '*.so*' -o -name aicost -o -name aicost-desktop \) -print0 \
                | xargs -0 -n 64 env LD_LIBRARY_PATH="$ld_path" ldd 2>/dev/null \
                | awk '/=> \//{print $3}' | grep -v "^$dir" | sort -u)
    # libglvnd0/libglx0 come with libgl1; keep the list short and stable.
    printf '%s\n' "${pkgs[@]}" libc6 | grep -v -E '^(libglvnd0|libglx0)$' | sort -u | paste -sd, - | sed 's/,/, /g'
}

case "$OS" in
    Linux)
        if [ "$DEB" = 1 ]; then
            if command -v dpkg-deb >/dev/null; then build_deb; else log "dpkg-deb not found: no .deb"; fi
        fi
        ;;
    Darwin)
        bash installer/macos/make_dmg.sh "$ROOT/dist/AI Cost Tracker.app" "$ROOT/dist/AI-Cost-Tracker-$VERSION.dmg"
        ;;
    *)
        log "on Windows, compile installer/windows/aicost.iss with Inno Setup (ISCC) after this build"
        ;;
esac
