"""A separate process that syncs one OpenAI account into a ledger (for crash and concurrency tests).

Usage: sync_worker_script.py HOME DB_URL BASE_URL KEY   (the key is held in memory only)
"""

from __future__ import annotations

import json
import sys

from aicost_desktop.accounts import add_account, get_account, replace_key
from aicost_desktop.app_context import AppContext
from aicost_desktop.domain.errors import InputError
from aicost_desktop.secrets import MemorySecretStore
from aicost_desktop.sync.http import HttpPolicy
from aicost_desktop.account_sync import sync_account


def main(home: str, db_url: str, base_url: str, key: str) -> int:
    ctx = AppContext(home=home, db_url=db_url, tz="UTC", secrets=MemorySecretStore())
    try:
        acc_id = get_account(ctx.db, "org").id
        replace_key(ctx.db, ctx.secrets, acc_id, key)
    except InputError:
        try:
            acc_id = add_account(ctx.db, ctx.secrets, "openai", "org", key, base_url)
        except InputError:  # the other process created it first
            acc_id = get_account(ctx.db, "org").id
            replace_key(ctx.db, ctx.secrets, acc_id, key)
    print("started", flush=True)
    out = sync_account(ctx, acc_id, policy=HttpPolicy(sleep=lambda s: None))
    print(json.dumps({"ok": out.ok, "message": out.message}), flush=True)
    ctx.close()
    return 0 if out.ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
