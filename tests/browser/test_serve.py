"""``kpi serve`` without a browser: its checks, its Streamlit command line, its stop.

Fast (no server is started except through a fake ``Popen``), so not marked ``browser``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kpi_core import serving
from kpi_core.cli import BUNDLED_SAMPLE, build_parser


def _kpi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kpi_core.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_missing_data_dir_is_one_line_and_exit_1(tmp_path):
    result = _kpi("serve", str(tmp_path / "nope"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "does not exist" in lines[0] and "nope" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_file_is_not_a_data_dir(tmp_path):
    file = tmp_path / "annotations.csv"
    file.write_text("x\n")
    result = _kpi("serve", str(file))
    assert result.returncode == 1
    assert "not a directory" in result.stderr and "Traceback" not in result.stderr


def test_defaults_are_local_only():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.data_dir) == ("127.0.0.1", 8501, None)
    command = serving.streamlit_command()
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options == {
        "--server.address": "127.0.0.1",
        "--server.port": "8501",
        "--server.headless": "true",  # no browser, no e-mail prompt
        "--browser.gatherUsageStats": "false",
        "--client.toolbarMode": "viewer",  # no "Deploy" button for readers
    }


def test_app_path_is_the_repository_app():
    assert Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py" == serving.APP


class FakeProcess:
    """Stands in for the Streamlit process: records signals, scripted ``wait``."""

    def __init__(self, waits):
        self.waits = list(waits)
        self.signals: list[int] = []
        self.returncode = None

    def wait(self, timeout=None):
        outcome = self.waits.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        self.returncode = outcome
        return outcome

    def poll(self):
        return self.returncode

    def send_signal(self, sig):
        self.signals.append(sig)

    def kill(self):
        self.signals.append(signal.SIGKILL)


@pytest.fixture
def fake_popen(monkeypatch):
    calls = []

    def install(*waits):
        process = FakeProcess(waits)

        def popen(command, **kwargs):
            calls.append((command, kwargs))
            return process

        monkeypatch.setattr(serving.subprocess, "Popen", popen)
        return process

    install.calls = calls
    return install


def test_serve_passes_absolute_data_dir_and_returns_streamlit_code(
    fake_popen, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    fake_popen(3)
    assert serving.serve(Path("logs"), host="0.0.0.0", port=9000) == 3
    command, kwargs = fake_popen.calls[0]
    assert kwargs["env"]["KPI_DATA_DIR"] == str(tmp_path / "logs")
    assert kwargs["stdin"] is subprocess.DEVNULL
    assert command[command.index("--server.address") + 1] == "0.0.0.0"
    assert command[command.index("--server.port") + 1] == "9000"
    assert command[4] == str(serving.APP)


def test_ctrl_c_stops_streamlit_and_exits_cleanly(fake_popen):
    process = fake_popen(KeyboardInterrupt(), -signal.SIGINT)
    assert serving.serve(BUNDLED_SAMPLE) == 0
    assert process.signals == [signal.SIGINT]


def test_ctrl_c_kills_a_hung_streamlit(fake_popen):
    process = fake_popen(KeyboardInterrupt(), subprocess.TimeoutExpired("streamlit", 10), -9)
    assert serving.serve(BUNDLED_SAMPLE) == -9
    assert process.signals == [signal.SIGINT, signal.SIGKILL]


def test_serve_passes_the_quarantine_file_to_the_app(fake_popen, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    fake_popen(0)
    assert serving.serve(Path("logs"), quarantine=Path("q.csv")) == 0
    _, kwargs = fake_popen.calls[0]
    assert kwargs["env"]["KPI_QUARANTINE"] == str(tmp_path / "q.csv")


def test_serve_without_quarantine_sets_none(fake_popen, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KPI_QUARANTINE", raising=False)
    (tmp_path / "logs").mkdir()
    fake_popen(0)
    assert serving.serve(Path("logs")) == 0
    _, kwargs = fake_popen.calls[0]
    assert "KPI_QUARANTINE" not in kwargs["env"]
