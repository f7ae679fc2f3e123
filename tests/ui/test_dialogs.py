"""Settings dialog (inline validation, saving) and About dialog (version, snapshot, paths)."""

from __future__ import annotations

from aicost_desktop import __version__
from aicost_desktop.ui.dialogs.about import AboutDialog
from aicost_desktop.ui.dialogs.settings import SettingsDialog


def test_invalid_time_zone_is_shown_inline_and_not_saved(qtbot, ctx):
    dlg = SettingsDialog(ctx)
    qtbot.addWidget(dlg)
    dlg.tz.setText("Mars/Olympus")
    dlg.accept()
    assert dlg.error.isVisibleTo(dlg) and "unknown IANA time zone" in dlg.error.text()
    assert ctx.settings.get("timezone") == ""
    assert dlg.result() == 0


def test_valid_settings_are_saved_and_reported(qtbot, ctx):
    dlg = SettingsDialog(ctx)
    qtbot.addWidget(dlg)
    dlg.tz.setText("Europe/Belgrade")
    dlg.currency.setCurrentText("EUR")
    dlg.week_start.setCurrentIndex(6)
    dlg.checks["close_to_tray"].setChecked(False)
    with qtbot.waitSignal(dlg.settings_changed) as blocker:
        dlg.accept()
    assert set(blocker.args[0]) == {"timezone", "display_currency", "week_start", "close_to_tray"}
    s = ctx.settings
    assert (s.get("timezone"), s.get("display_currency"), s.get("week_start"), s.get("close_to_tray")) == \
        ("Europe/Belgrade", "EUR", 6, False)


def test_time_zone_completer(qtbot, ctx):
    dlg = SettingsDialog(ctx)
    qtbot.addWidget(dlg)
    model = dlg.tz.completer().model()
    zones = {model.index(i, 0).data() for i in range(model.rowCount())}
    assert "America/New_York" in zones and "Asia/Kolkata" in zones


def test_about_shows_version_snapshot_and_paths(qtbot, ctx):
    dlg = AboutDialog(ctx)
    qtbot.addWidget(dlg)
    assert __version__ in dlg.text
    assert str(ctx.paths.log_file) in dlg.text
    assert str(ctx.paths.home) in dlg.text
    assert "Price snapshot" in dlg.text
