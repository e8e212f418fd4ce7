"""``kpi serve``: run the Streamlit dashboard on a data directory.

The dashboard lives in ``app/streamlit_app.py`` next to ``src/`` in the repository.
:func:`serve` starts it with ``python -m streamlit run`` in the same interpreter, passing
the data directory as the absolute path in ``KPI_DATA_DIR`` (``KPI_TARGETS``, when set,
is passed through unchanged). Streamlit runs headless with usage statistics off, so it
never opens a browser or asks for an e-mail address on first run (CI has no stdin), and
with the viewer's toolbar, so no "Deploy" button faces the people reading it.

Only the checks a server cannot show as a page happen here (the directory is missing,
the app is not where it should be): an invalid data directory is the dashboard's job,
which shows the validation report as a page.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import kpi_core

#: The Streamlit entry point: ``<repo>/app/streamlit_app.py``.
APP = Path(kpi_core.__file__).resolve().parents[2] / "app" / "streamlit_app.py"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501

#: How long to wait for Streamlit to stop after Ctrl-C or SIGTERM before killing it.
STOP_TIMEOUT_S = 10.0


def streamlit_command(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, app: Path = APP
) -> list[str]:
    """The command line :func:`serve` runs (same interpreter as the caller)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # The people who open the dashboard read it; Streamlit's developer menu
        # ("Deploy", "Rerun", "Clear cache") is for whoever edits app/.
        "--client.toolbarMode",
        "viewer",
    ]


def _problem(data: Path, app: Path) -> str | None:
    """One readable line when the server cannot start, else None."""
    if not data.exists():
        return (
            f"kpi serve: data directory {data} does not exist "
            "(create one with: kpi sample DIR, or omit DATA_DIR for the bundled sample)"
        )
    if not data.is_dir():
        return f"kpi serve: {data} is not a directory (give the directory holding the tables)"
    if not app.is_file():
        return (
            f"kpi serve: the dashboard app {app} is missing "
            "(install the project from a checkout: pip install -e .)"
        )
    return None


def _stop(process: subprocess.Popen, sig: int = signal.SIGINT) -> int:
    """Ask Streamlit to stop, wait for it, kill it if it hangs; its exit code."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
    try:
        return process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def serve(
    data: Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    app: Path = APP,
    quarantine: Path | None = None,
) -> int:
    """Run the dashboard on ``data`` at ``http://host:port`` until stopped.

    Parameters
    ----------
    data
        The data directory; must exist (exit code 1 and one line on stderr otherwise).
    host
        Interface to listen on; the default ``127.0.0.1`` is reachable from this machine
        only. ``0.0.0.0`` exposes the dashboard to the network.
    port
        TCP port.
    quarantine
        Go on despite invalid rows: set them aside and write their reasons here
        (``KPI_QUARANTINE`` for the app); the dashboard counts them on every page.

    Returns
    -------
    int
        Streamlit's exit code; 0 after Ctrl-C or SIGTERM stopped it cleanly.
    """
    data = Path(data)
    problem = _problem(data, app)
    if problem:
        print(problem, file=sys.stderr)
        return 1

    env = dict(os.environ)
    env["KPI_DATA_DIR"] = str(data.resolve())
    if quarantine is not None:
        env["KPI_QUARANTINE"] = str(quarantine.resolve())
    command = streamlit_command(host, port, app)

    try:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
    except OSError as error:
        print(f"kpi serve: cannot start streamlit: {error}", file=sys.stderr)
        return 1

    # SIGTERM (a service manager, `kill`) stops Streamlit too instead of orphaning it.
    def _on_term(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        previous = signal.signal(signal.SIGTERM, _on_term)

    try:
        return process.wait()
    except KeyboardInterrupt:
        # Ctrl-C in a terminal reaches Streamlit too (same process group); either way
        # ask it to stop, and report a clean exit when it did.
        code = _stop(process)
        return 0 if code in (0, -signal.SIGINT, 130, -signal.SIGTERM, 143) else code
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
