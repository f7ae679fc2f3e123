"""Where data lives (home dir, database URL, logs) and the typed settings registry."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import platformdirs

from aicost_desktop import APP_ID
from aicost_desktop.domain.errors import InputError
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


def _tz(value: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if value in ("", None):
        return ""
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("timezone", value, "unknown IANA time zone (e.g. Europe/Belgrade)") from None
    return str(value)


def _positive_int(name: str) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        try:
            v = int(value)
        except (TypeError, ValueError):
            raise InputError(name, value, "must be an integer") from None
        if v <= 0:
            raise InputError(name, value, "must be greater than zero")
        return v

    return check


def _weekday(value: Any) -> int:
    if not isinstance(value, int) or not 0 <= value <= 6:
        raise InputError("week_start", value, "must be 0 (Monday) .. 6 (Sunday)")
    return value


# Every setting is declared once here; window geometry lives in QSettings, not here.
SETTINGS: dict[str, Setting] = {s.key: s for s in [
    Setting("timezone", str, "", "Time zone (empty = system)", _tz),
    Setting("display_currency", str, "USD", "Display currency"),
    Setting("week_start", int, 0, "First day of the week (0 = Monday)", _weekday),
    Setting("start_minimized", bool, False, "Start minimized to the tray"),
    Setting("close_to_tray", bool, True, "Closing the window keeps the app in the tray"),
    Setting("start_at_login", bool, False, "Start at login"),
    Setting("sync_interval_minutes", int, 15, "Default sync interval (minutes)", _positive_int("sync_interval_minutes")),
    Setting("backfill_days", int, 90, "First sync backfills this many days", _positive_int("backfill_days")),
    Setting("sync_paused", bool, False, "Syncing paused"),
    Setting("http_debug_log", bool, False, "Log provider requests and responses (keys redacted)"),
    Setting("cost_mode", str, "auto", "Cost mode (auto, reported, computed)"),
    Setting("fx_rates", dict, {"USD": "1", "EUR": "1.08", "GBP": "1.27", "JPY": "0.0067", "CAD": "0.73",
                               "AUD": "0.66", "CHF": "1.13", "CNY": "0.14", "INR": "0.012", "SEK": "0.095",
                               "NOK": "0.093", "DKK": "0.145", "PLN": "0.25", "RSD": "0.0092", "NZD": "0.6",
                               "BRL": "0.18", "MXN": "0.055", "SGD": "0.75", "HKD": "0.128", "KRW": "0.00072"},
            "Exchange rates to USD used for totals"),
    Setting("smtp", dict, {}, "SMTP server for alert email (password in the keychain)"),
    Setting("theme", str, "system", "Theme (system, light, dark)"),
]}


class Settings:
    """Typed user preferences persisted as JSON in the home dir; unknown keys are kept untouched."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._values: dict[str, Any] = {}
        if path.exists():
            try:
                self._values = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("settings file %s unreadable (%s); using defaults", path, exc)

    def get(self, key: str) -> Any:
        spec = SETTINGS[key]
        value = self._values.get(key, spec.default)
        if not isinstance(value, spec.type):
            return spec.default
        return value

    def fx_rates(self) -> "dict[str, Decimal]":
        """Exchange rates to USD as Decimals (the one place the setting is parsed)."""
        from aicost_desktop.domain.money import parse_fx_rates

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
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._values, fh, indent=2, sort_keys=True)
        os.replace(tmp, self.path)


def system_timezone() -> str:
    """The system's IANA zone name, falling back to UTC when it cannot be determined."""
    tz = os.environ.get("TZ")
    if tz and "/" in tz:
        return tz
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
