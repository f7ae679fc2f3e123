"""The core's composition root: paths, settings, database, time zone and price catalog in one object.

The GUI, the CLI and the tests all build one `AppContext` and pass it down; nothing reaches for
globals, so tests can point a context at a temporary home and database.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aicost_desktop.config import Paths, Settings, default_home, timezone_name

if TYPE_CHECKING:
    from aicost_desktop.pricing.catalog import PriceCatalog
    from aicost_desktop.secrets import SecretStore
    from aicost_desktop.storage.db import Database

log = logging.getLogger("aicost.context")


class AppContext:
    """Everything a command or window needs, created lazily so `aicost --help` stays fast."""

    def __init__(self, home: Path | str | None = None, db_url: str | None = None,
                 tz: str | None = None, secrets: "SecretStore | None" = None) -> None:
        self.paths = Paths(Path(home).expanduser() if home else default_home()).ensure()
        self.settings = Settings(self.paths.settings)
        self.db_url = self.paths.database_url(db_url)
        self._tz_override = tz
        self._secrets = secrets
        self.apply_logging_settings()

    def apply_logging_settings(self) -> None:
        """The request/response debug log (keys redacted by sync.http) follows the `http_debug_log` setting."""
        logging.getLogger("aicost.http").setLevel(logging.DEBUG if self.settings.get("http_debug_log") else logging.INFO)

    @property
    def tz_name(self) -> str:
        return timezone_name(self._tz_override, self.settings)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def today(self) -> date:
        """The user's calendar day now (in their time zone, not the machine's)."""
        return datetime.now(self.tz).date()

    # The database, catalog and keychain are imported when first used, not for a cycle: `aicost --help`
    # and the import fast path never load SQLAlchemy, the catalog or keyring.
    @cached_property
    def db(self) -> "Database":
        from aicost_desktop.storage.db import Database  # lazy: see above (SQLAlchemy)

        return Database.open(self.db_url, backup_dir=self.paths.backups)

    @cached_property
    def catalog(self) -> "PriceCatalog":
        from aicost_desktop.pricing.catalog import PriceCatalog  # lazy: see above (the catalog)

        return PriceCatalog.load(user_file=self.paths.price_catalog, db=self.db)

    @property
    def secrets(self) -> "SecretStore":
        if self._secrets is None:
            from aicost_desktop.secrets import KeyringSecretStore  # lazy: see above (keyring)

            self._secrets = KeyringSecretStore()
        return self._secrets

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
