"""Settings dialog: everything that exists is in it (theme, sync interval, cost mode, currency and rates, SMTP with
the password in the keychain, "Send test email" on a real local SMTP server), invalid fields marked at once."""

from __future__ import annotations

import socket
from typing import Any, Iterator

import pytest
from PySide6.QtWidgets import QTableWidgetItem

from aicost_desktop.notify.email import SMTP_SECRET_KEY
from aicost_desktop.ui.dialogs.settings import SettingsDialog


def dialog(qtbot, ctx) -> SettingsDialog:
    d = SettingsDialog(ctx)
    qtbot.addWidget(d)
    d.applied: list[str] = []  # type: ignore[attr-defined]
    d.apply_theme = d.applied.append  # type: ignore[attr-defined,method-assign]
    return d


def rate_row(d: SettingsDialog, code: str) -> int:
    return next(r for r in range(d.rates.rowCount()) if d.rates.item(r, 0).text() == code)


def test_round_trip_of_every_setting_with_the_smtp_password_in_the_keychain(qtbot, ctx) -> None:
    d = dialog(qtbot, ctx)
    assert d.error.isHidden()  # nothing typed: nothing wrong
    d.theme.setCurrentIndex(d.theme.findData("dark"))
    d.sync_interval.setValue(30)
    d.cost_mode.setCurrentIndex(d.cost_mode.findData("computed"))
    d.currency.setCurrentText("EUR")
    d.rates.item(rate_row(d, "EUR"), 1).setText("1.10")
    d.smtp_host.setText("smtp.example.com")
    d.smtp_port.setValue(465)
    d.smtp_security.setCurrentIndex(d.smtp_security.findData("ssl"))
    d.smtp_user.setText("me@example.com")
    d.smtp_password.setText("s3cret-pw")
    with qtbot.waitSignal(d.settings_changed) as blocker:
        d.accept()
    assert {"theme", "sync_interval_minutes", "cost_mode", "display_currency", "fx_rates", "smtp",
            "smtp_password"} <= set(blocker.args[0])
    s = ctx.settings
    assert (s.get("theme"), s.get("sync_interval_minutes"), s.get("cost_mode"), s.get("display_currency")) == \
        ("dark", 30, "computed", "EUR")
    assert s.get("fx_rates")["EUR"] == "1.1" and str(s.fx_rates()["EUR"]) == "1.1"
    assert s.get("smtp") == {"host": "smtp.example.com", "port": 465, "security": "ssl", "user": "me@example.com"}
    assert ctx.secrets.get(SMTP_SECRET_KEY) == "s3cret-pw"
    assert "s3cret-pw" not in ctx.paths.settings.read_text()
    assert d.applied == ["dark"]
    again = dialog(qtbot, ctx)  # reopened: the values come back, the password only as "stored"
    assert again.theme.currentData() == "dark" and again.smtp_port.value() == 465
    assert again.smtp_password.text() == "" and "stored in the keychain" in again.smtp_password.placeholderText()


@pytest.mark.parametrize("rate", ["NaN", "-1", "0", "abc", "inf"])
def test_bad_exchange_rates_are_refused_and_every_problem_is_listed(qtbot, ctx, rate) -> None:
    d = dialog(qtbot, ctx)
    d.rates.item(rate_row(d, "EUR"), 1).setText(rate)
    d.tz.setText("Mars/Olympus")
    d.smtp_from.setText("not an address")
    d.smtp_host.setText("smtp.example.com")
    d.accept()
    text = d.error.text()
    assert "EUR must be a number above 0" in text and "unknown IANA time zone" in text and "smtp.from" in text
    assert d.tz.property("invalid") and d.smtp_from.property("invalid")
    assert d.rates.item(rate_row(d, "EUR"), 1).background().color().alpha() > 0
    assert ctx.settings.get("fx_rates")["EUR"] == "1.08" and d.result() == 0


def test_a_new_rate_with_a_decimal_comma_in_a_comma_locale(qtbot, ctx) -> None:
    from PySide6.QtCore import QLocale

    old = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    try:
        d = dialog(qtbot, ctx)
        r = rate_row(d, "CHF")
        d.rates.setItem(r, 1, QTableWidgetItem("1,15"))
        d.accept()
    finally:
        QLocale.setDefault(old)
    assert ctx.settings.get("fx_rates")["CHF"] == "1.15"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.controller import Controller

    got: list[Any] = []

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.append(envelope)
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctl = Controller(Sink(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield port, got
    finally:
        ctl.stop()


def test_send_test_email_goes_through_the_form_server_on_a_worker(qtbot, ctx, smtp_server) -> None:
    port, got = smtp_server
    d = dialog(qtbot, ctx)
    d.smtp_host.setText("127.0.0.1")
    d.smtp_port.setValue(port)
    d.smtp_security.setCurrentIndex(d.smtp_security.findData("none"))
    d.smtp_from.setText("aicost@example.com")
    d.test_to.setText("me@example.com")
    with qtbot.waitSignal(d.test_finished, timeout=10_000) as blocker:
        d.send_test()
    assert blocker.args[0].startswith("Test email sent to me@example.com")
    assert len(got) == 1 and got[0].rcpt_tos == ["me@example.com"]
    assert b"Test budget" in got[0].content
    d.smtp_port.setValue(1)  # nothing listens there: the failure is said, not raised
    with qtbot.waitSignal(d.test_finished, timeout=20_000) as blocker:
        d.send_test()
    assert blocker.args[0].startswith("Not sent:") and d.test_btn.isEnabled()
