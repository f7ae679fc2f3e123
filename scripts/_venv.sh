# Shared by scripts/run.sh and scripts/test.sh (POSIX sh, sourced): find a Python >= 3.11,
# create .venv with it, and (re)install the project only when pyproject.toml changed.
# Overrides: PYTHON=/path/to/python3.x, AICOST_VENV=/path/to/venv.

AICOST_MIN_PY="3.11"
VENV="${AICOST_VENV:-.venv}"

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

note() {
    printf '%s\n' "$*" >&2
}

py_ok() {
    # True when "$1" runs and is Python >= 3.11.
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

find_python() {
    if [ -n "${PYTHON:-}" ]; then
        py_ok "$PYTHON" || die "PYTHON=$PYTHON is not a working Python >= $AICOST_MIN_PY"
        printf '%s\n' "$PYTHON"
        return 0
    fi
    for cand in python3 python3.14 python3.13 python3.12 python3.11 python; do
        if command -v "$cand" >/dev/null 2>&1 && py_ok "$cand"; then
            command -v "$cand"
            return 0
        fi
    done
    found=""
    for cand in python3 python; do
        if command -v "$cand" >/dev/null 2>&1; then
            found="$found $("$cand" -c 'import sys; print("%s=%d.%d" % (sys.executable, *sys.version_info[:2]))' 2>/dev/null)"
        fi
    done
    die "AI Cost Tracker needs Python >= $AICOST_MIN_PY (found:${found:- none}).
  Debian/Ubuntu: sudo apt-get install python3 python3-venv   (Debian 12 / Ubuntu 24.04 ship 3.11 / 3.12)
  Fedora: sudo dnf install python3.12    macOS: brew install python@3.12
  or point PYTHON=/path/to/python3.12 at one."
}

venv_hint() {
    # The exact package that provides ensurepip for this interpreter on Debian/Ubuntu.
    v=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    note "  Debian/Ubuntu: sudo apt-get install python$v-venv    (or: sudo apt-get install python3-venv)"
    note "  or: sudo apt-get install python3-virtualenv   (then run this again)"
}

make_venv() {
    py="$1"
    note "Creating $VENV with $py ($("$py" -c 'import sys; print(sys.version.split()[0])'))"
    # 1. The standard way (needs ensurepip; Debian splits it into python3-venv).
    if "$py" -m venv "$VENV" >/dev/null 2>&1 && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    rm -rf "$VENV"
    # 2. virtualenv, if installed (it ships its own pip wheel, no ensurepip needed).
    if "$py" -m virtualenv --version >/dev/null 2>&1; then
        if "$py" -m virtualenv -q "$VENV" && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
            return 0
        fi
        rm -rf "$VENV"
    fi
    # 3. A pip-less venv, with pip put into it by the system's own pip (python3-pip >= 22.3).
    if "$py" -m pip --version >/dev/null 2>&1 && "$py" -m venv --without-pip "$VENV" >/dev/null 2>&1; then
        if "$py" -m pip --python "$VENV/bin/python" install -q --disable-pip-version-check pip >/dev/null 2>&1 \
            && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
            return 0
        fi
    fi
    rm -rf "$VENV"
    note "error: could not create a virtual environment: '$py -m venv' has no ensurepip/pip,"
    note "and neither virtualenv nor a system pip is available to bootstrap one."
    venv_hint "$py"
    exit 1
}

ensure_venv() {
    if [ -x "$VENV/bin/python" ] && py_ok "$VENV/bin/python" && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    if [ -e "$VENV" ]; then
        note "$VENV is broken or older than Python $AICOST_MIN_PY: recreating it"
        rm -rf "$VENV"
    fi
    make_venv "$(find_python)"
}

project_checksum() {
    # POSIX cksum: no sha256sum on macOS, no Python needed.
    cksum < pyproject.toml | awk '{print $1 "-" $2}'
}

# stamp_current STAMP_NAME: the install recorded in $VENV/STAMP_NAME matches pyproject.toml.
stamp_current() {
    [ -f "$VENV/$1" ] && [ "$(cut -d' ' -f1 "$VENV/$1")" = "$(project_checksum)" ] && [ -x "$VENV/bin/aicost" ]
}

# uv_ready: $VENV/bin/uv exists, installed into the venv by its own pip on first use. uv installs the ~90
# packages of .[test] (PySide6 is 400 MB unpacked) in about 5 s where pip takes 35 s; a platform without a uv
# wheel, or AICOST_NO_UV=1, keeps pip.
uv_ready() {
    [ "${AICOST_NO_UV:-0}" != 1 ] || return 1
    [ -x "$VENV/bin/uv" ] && return 0
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check uv >/dev/null 2>&1 && [ -x "$VENV/bin/uv" ]
}

# venv_install [--no-compile] PACKAGE_OR_-e_TARGET...: install into $VENV with uv (falling back to pip when
# uv fails, e.g. an index only pip is configured for). uv compiles no byte-code unless asked, as --no-compile.
venv_install() {
    if uv_ready; then
        # uv reads no pip.conf: an index given to pip by environment is passed on.
        if [ -n "${PIP_INDEX_URL:-}" ] && [ -z "${UV_DEFAULT_INDEX:-}${UV_INDEX_URL:-}" ]; then
            UV_DEFAULT_INDEX="$PIP_INDEX_URL"
            export UV_DEFAULT_INDEX
        fi
        # The arguments without --no-compile (pip's flag; uv has no such option): appended, then the
        # originals shifted off (the for list is expanded once, before the loop).
        no_compile=""
        n=$#
        for a in "$@"; do
            if [ "$a" = --no-compile ]; then no_compile=1; else set -- "$@" "$a"; fi
        done
        shift "$n"
        if "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" "$@"; then
            return 0
        fi
        note "uv could not install $*; trying pip"
        if [ -n "$no_compile" ]; then set -- --no-compile "$@"; fi
    fi
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@"
}

# ensure_installed STAMP_NAME PIP_TARGET [PIP_ARGS...]: install -e TARGET unless pyproject.toml is
# unchanged since the last successful install recorded in $VENV/STAMP_NAME.
ensure_installed() {
    stamp="$VENV/$1"
    target="$2"
    shift 2
    want="$(project_checksum) $target"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/aicost" ]; then
        return 0
    fi
    note "Installing $target into $VENV (pyproject.toml changed or first run)"
    venv_install "$@" -e "$target" || die "installing -e '$target' failed (see above); is PyPI reachable?"
    printf '%s\n' "$want" > "$stamp"
}
