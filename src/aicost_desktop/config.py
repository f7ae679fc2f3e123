"""Where data lives (home dir, database URL, logs) and the typed settings registry."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from aicost_desktop import APP_ID
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import parse_fx_rates
from aicost_desktop.domain.private_files import FILE_MODE, fix_tree, private_dir, private_sqlite, restrict

log = logging.getLogger("aicost.config")


def default_home() -> Path:
    """The data directory: --home, else AICOST_HOME, else the platform's user data dir."""
    env = os.environ.get("AICOST_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP_ID, appauthor=False))


@dataclass(frozen=True)
class Paths:
    """Every file location derived from one home directory."""

    home: Path

    @property
    def database(self) -> Path:
        return self.home / "ledger.sqlite3"

    @property
    def settings(self) -> Path:
        return self.home / "settings.json"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs / "aicost.log"

    @property
    def backups(self) -> Path:
        return self.home / "backups"

    @property
    def price_catalog(self) -> Path:
        """A user-installed catalog (`aicost prices update`) that replaces the bundled snapshot."""
        return self.home / "model_prices.json"

    @property
    def exports(self) -> Path:
        return self.home / "exports"

    def ensure(self) -> "Paths":
        """Create the home and its folders private (0700), and make private what an older version
        left readable by other users: the ledger and its -wal/-shm, settings, logs, backups, exports."""
        for p in (self.home, self.logs, self.backups):
            private_dir(p)
        for folder in (self.logs, self.backups, self.exports):
            fix_tree(folder)
        for f in (self.settings, self.price_catalog):
            restrict(f, FILE_MODE)
        if self.database.exists():
            private_sqlite(self.database)
        return self

    def database_url(self, override: str | None = None) -> str:
        """--db, else AICOST_DATABASE_URL, else the SQLite file in home."""
        return override or os.environ.get("AICOST_DATABASE_URL") or f"sqlite:///{self.database}"


@dataclass(frozen=True)
class Setting:
    """One declared setting: its key, type, default, a label for the settings dialog and a validator."""

    key: str
    type: type
    default: Any
    label: str
    validate: Callable[[Any], Any] | None = None


def check_timezone(value: Any, field: str = "timezone") -> str:
    """An IANA zone name ('' = the system's), or InputError naming where the value came from."""
    if value in ("", None):
        return ""
    if not isinstance(value, str) or len(value) > 255:
        raise InputError(field, value, "unknown IANA time zone (e.g. Europe/Belgrade)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones such as 'Europe'
        raise InputError(field, value, "unknown IANA time zone (e.g. Europe/Belgrade)") from None
    return value


def _positive_int(name: str, maximum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        try:
            v = int(value)
        except (TypeError, ValueError):
            raise InputError(name, value, "must be an integer") from None
        if v <= 0:
            raise InputError(name, value, "must be greater than zero")
        if v > maximum:
            raise InputError(name, value, f"must be at most {maximum}")
        return v

    return check


def _fx_rates(value: Any) -> dict[str, Any]:
    """Currency code -> rate to USD: every rate a finite decimal number above zero (a NaN, negative
    or infinite rate would turn every total in that currency into nonsense)."""
    if not isinstance(value, dict):
        raise InputError("fx_rates", value, "must be an object of currency codes to rates")
    for code, rate in value.items():
        try:
            d = Decimal(str(rate).strip()) if isinstance(rate, (str, int, float)) and not isinstance(rate, bool) \
                else None
        except (InvalidOperation, ValueError):
            d = None
        if d is None or not d.is_finite() or d <= 0 or d > 10**9:
            raise InputError(f"fx_rates.{code}", rate, "must be a number above 0 such as \"1.08\"")
    return value


def _smtp(value: Any) -> dict[str, Any]:
    """The SMTP server: a port 1..65535 and a finite positive timeout when given."""
    if not isinstance(value, dict):
        raise InputError("smtp", value, "must be an object with host, port, security, user, from")
    port = value.get("port")
    if port not in (None, ""):
        ok = isinstance(port, int) and not isinstance(port, bool) or isinstance(port, str) and port.isascii() \
            and port.strip().isdigit()
        if not ok or not 1 <= int(port) <= 65535:
            raise InputError("smtp.port", port, "must be a port number 1..65535")
    timeout = value.get("timeout")
    if timeout is not None:
        try:
            t = float(timeout)
        except (TypeError, ValueError):
            t = -1.0
        if isinstance(timeout, bool) or not 0 < t <= 3600:
            raise InputError("smtp.timeout", timeout, "must be seconds, above 0 and at most 3600")
    return value


def _weekday(value: Any) -> int:
    if not isinstance(value, int) or not 0 <= value <= 6:
        raise InputError("week_start", value, "must be 0 (Monday) .. 6 (Sunday)")
    return value


# The gateway's defaults live here, not in gateway/config.py (which uses them): settings sit below the gateway.
GATEWAY_DEFAULT_PORT = 8788
GATEWAY_PROVIDERS = ("openai", "anthropic")
GATEWAY_DEFAULT_UPSTREAMS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com/v1"}


def check_http_url(field: str, value: Any) -> str:
    """An http(s) base URL without query, fragment or credentials (a key belongs in the keychain), '/'-trimmed."""
    reason = "must be an http(s) base URL such as https://api.openai.com/v1"
    if not isinstance(value, str) or len(value) > 2048 or value != value.strip():
        raise InputError(field, value, reason)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number or out of range
    except ValueError:
        raise InputError(field, value, reason) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InputError(field, value, reason)
    if parts.username is not None or parts.password is not None:
        raise InputError(field, value, "must not hold a user name or password (keys belong in the keychain)")
    return value.rstrip("/")


def _gateway_port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 65535:
        raise InputError("gateway_port", value, "must be a port number 1024..65535")
    return value


INCOMING_DEFAULT_PORT = 8789  # the incoming-webhook listener (integrations/incoming.py), next to the gateway's


def _incoming_port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 65535:
        raise InputError("incoming_webhooks_port", value, "must be a port number 1024..65535")
    return value


def _upstream(provider: str) -> Callable[[Any], str]:
    return lambda value: check_http_url(f"gateway_upstream_{provider}", value)


def _inject(provider: str) -> Callable[[Any], str]:
    """An account name or id whose stored key the gateway sends to `provider`; '' passes the client's key through."""
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > 200 or value != value.strip() or "\n" in value:
            raise InputError(f"gateway_inject_{provider}", value,
                             "must be an account name (aicost accounts list), or empty to pass the client's key through")
        return value

    return check


# Every setting is declared once here; window geometry lives in QSettings, not here.
SETTINGS: dict[str, Setting] = {s.key: s for s in [
    Setting("timezone", str, "", "Time zone (empty = system)", check_timezone),
    Setting("display_currency", str, "USD", "Display currency"),
    Setting("week_start", int, 0, "First day of the week (0 = Monday)", _weekday),
    Setting("start_minimized", bool, False, "Start minimized to the tray"),
    Setting("close_to_tray", bool, True, "Closing the window keeps the app in the tray"),
    Setting("start_at_login", bool, False, "Start at login"),
    Setting("sync_interval_minutes", int, 15, "Default sync interval (minutes)", _positive_int("sync_interval_minutes", 525_600)),
    Setting("backfill_days", int, 90, "First sync backfills this many days", _positive_int("backfill_days", 36_600)),
    Setting("sync_paused", bool, False, "Syncing paused"),
    Setting("http_debug_log", bool, False, "Log provider requests and responses (keys redacted)"),
    Setting("cost_mode", str, "auto", "Cost mode (auto, reported, computed)"),
    Setting("fx_rates", dict, {"USD": "1", "EUR": "1.08", "GBP": "1.27", "JPY": "0.0067", "CAD": "0.73",
                               "AUD": "0.66", "CHF": "1.13", "CNY": "0.14", "INR": "0.012", "SEK": "0.095",
                               "NOK": "0.093", "DKK": "0.145", "PLN": "0.25", "RSD": "0.0092", "NZD": "0.6",
                               "BRL": "0.18", "MXN": "0.055", "SGD": "0.75", "HKD": "0.128", "KRW": "0.00072"},
            "Exchange rates to USD used for totals", _fx_rates),
    Setting("smtp", dict, {}, "SMTP server for alert email (password in the keychain)", _smtp),
    Setting("theme", str, "system", "Theme (system, light, dark)"),
    Setting("gateway_enabled", bool, False, "Run the local metering gateway (127.0.0.1 only)"),
    Setting("gateway_port", int, GATEWAY_DEFAULT_PORT, "Gateway port on 127.0.0.1", _gateway_port),
    *[Setting(f"gateway_upstream_{p}", str, url, f"{name} base URL the gateway forwards to", _upstream(p))
      for p, name, url in (("openai", "OpenAI", GATEWAY_DEFAULT_UPSTREAMS["openai"]),
                           ("anthropic", "Anthropic", GATEWAY_DEFAULT_UPSTREAMS["anthropic"]))],
    *[Setting(f"gateway_inject_{p}", str, "", f"Account whose key the gateway sends to {name} "
                                              "(empty = pass the client's own key through)", _inject(p))
      for p, name in (("openai", "OpenAI"), ("anthropic", "Anthropic"))],
    Setting("incoming_webhooks_enabled", bool, False,
            "Receive signed webhooks (Slack, GitHub, Stripe, Webhook) on 127.0.0.1, for your own tunnel"),
    Setting("incoming_webhooks_port", int, INCOMING_DEFAULT_PORT, "Incoming webhooks port on 127.0.0.1",
            _incoming_port),
]}


class Settings:
    """Typed user preferences persisted as JSON in the home dir; unknown keys are kept untouched."""

    def __init__(self, path: Path) -> None:
        self.path = path
        values: object = {}
        if path.exists():
            try:
                values = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested thousands deep
                log.warning("settings file %s unreadable (%s); using defaults", path, exc)
        if not isinstance(values, dict):
            # A list, string or null: no setting could be read from it, and saving would destroy it.
            kind = "null" if values is None else type(values).__name__
            raise InputError("settings file", str(path), f"must hold a JSON object ({{\"timezone\": \"UTC\", ...}}), "
                                                          f"not {kind}; fix or delete it")
        self._values: dict[str, Any] = values

    def get(self, key: str) -> Any:
        spec = SETTINGS[key]
        value = self._values.get(key, spec.default)
        if not isinstance(value, spec.type):
            return spec.default
        if spec.validate and key in self._values:
            try:
                spec.validate(value)
            except InputError as exc:  # name the file: the user has to fix it there
                raise InputError(f"{self.path}: {exc.field}", exc.value, exc.reason) from None
        return value

    def fx_rates(self) -> "dict[str, Decimal]":
        """Exchange rates to USD as Decimals (the one place the setting is parsed)."""
        return parse_fx_rates(self.get("fx_rates"))

    def set(self, key: str, value: Any) -> None:
        spec = SETTINGS.get(key)
        if spec is None:
            raise InputError("setting", key, "unknown setting")
        if spec.validate:
            value = spec.validate(value)
        if not isinstance(value, spec.type):
            raise InputError(key, value, f"must be of type {spec.type.__name__}")
        self._values[key] = value
        self.save()

    def save(self) -> None:
        private_dir(self.path.parent)
        # Write-then-rename so a crash never leaves a half-written settings file; mkstemp makes it 0600.
        import tempfile  # lazy: it brings shutil, bz2, lzma and random into every CLI start; few commands save

        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._values, fh, indent=2, sort_keys=True)
        os.replace(tmp, self.path)


def system_timezone() -> str:
    """The system's IANA zone name, falling back to UTC when it cannot be determined."""
    tz = os.environ.get("TZ", "").removeprefix(":")
    if tz and "/" in tz and not tz.startswith("/"):
        return check_timezone(tz, "TZ (environment)")
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return link.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    return "UTC"


def timezone_name(override: str | None, settings: Settings) -> str:
    """The zone in effect: --tz, else AICOST_TZ, else the setting, else the system's; a bad value
    is an InputError naming where it came from."""
    if override:
        return check_timezone(override, "--tz")
    env = os.environ.get("AICOST_TZ")
    if env:
        return check_timezone(env, "AICOST_TZ (environment)")
    return settings.get("timezone") or system_timezone()


# Pseudo file systems: writing a ledger there fails in odd ways (or, for /dev as root, replaces devices).
_PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


def check_home(text: str, field: str = "--home") -> Path:
    """A usable data folder, or one clear error: empty, NUL, too long, a file, a pseudo file system,
    not creatable or not writable."""
    if not text or not text.strip():
        raise InputError(field, text, "must not be empty (leave it out to use the default data folder)")
    if "\x00" in text:
        raise InputError(field, text, "must not contain a NUL byte")
    path = Path(text).expanduser()
    if len(os.fsencode(path)) > 4096 or any(len(os.fsencode(p)) > 255 for p in path.parts):
        raise InputError(field, text, "is too long for a path")
    real = os.path.realpath(path)
    root = next((r for r in _PSEUDO_ROOTS if real == r or real.startswith(r + os.sep)), None)
    if root:
        raise InputError(field, text, f"is inside {root}, which cannot hold data")
    if path.exists() and not path.is_dir():
        raise InputError(field, text, "is a file, not a folder")
    # The folder is created later (private, by Paths.ensure); here only whether it can be.
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(field, text, f"cannot be created: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(field, text, "is not writable" if existing == path.absolute()
                         else f"cannot be created: {existing} is not writable")
    return path
