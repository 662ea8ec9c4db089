"""The real ``aggregator run`` process: SIGTERM during a crawl, a second signal, and
concurrent writers and readers on one database (never "database is locked").

Subprocesses run a snapshot of the package against a snapshot of the fixture site served
with some latency per request, so signals land while fetches are in flight.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator.cli import cli
from aggregator.fixture_server import FixtureServer
from aggregator.store import Store

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config" / "demo.toml"


class SlowFixtureServer(FixtureServer):
    def __init__(self, root: Path, latency: float) -> None:
        super().__init__(root)
        self.latency = latency

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        base = super()._handler_class()
        latency = self.latency

        class Slow(base):  # type: ignore[valid-type, misc]
            def do_GET(self) -> None:  # noqa: N802
                time.sleep(latency)
                super().do_GET()

        return Slow


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("snap")
    shutil.copytree(ROOT / "fixtures" / "site", base / "site")
    shutil.copytree(ROOT / "aggregator", base / "code" / "aggregator",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(base / "code"), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONUNBUFFERED": "1"}
    return base / "site", env


@pytest.fixture(scope="module")
def slow_site(snapshot: tuple[Path, dict[str, str]]) -> Iterator[SlowFixtureServer]:
    with SlowFixtureServer(snapshot[0], 0.03) as server:
        yield server


def write_config(base_url: str, path: Path, extra: str = "") -> Path:
    text = DEMO_CONFIG.read_text(encoding="utf-8").replace("{base}", base_url)
    path.write_text(text + extra, encoding="utf-8")
    return path


class Proc:
    """A subprocess whose stdout lines are collected by a thread."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.p = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.p.poll() is not None:
                    raise AssertionError(f"no {text!r} in output: {self.lines[-20:]}")
                self._cond.wait(min(left, 0.1))

    def finish(self, timeout: float = 30) -> tuple[int, str]:
        rc = self.p.wait(timeout=timeout)
        self._thread.join(timeout=5)
        assert self.p.stderr is not None
        return rc, self.p.stderr.read()

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.p.poll() is None:  # a failed assertion must not leave the process running
            self.p.kill()
            self.p.wait(timeout=10)

    def events(self) -> list[dict]:
        return [json.loads(x) for x in self.lines if x.startswith("{")]


def run_args(db: Path, config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "aggregator", "--db", str(db), "--config", str(config), *args]


def intact(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=30)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT canonical_url) FROM articles").fetchone()
        assert total == distinct
        missing = conn.execute(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS"
            " (SELECT 1 FROM articles_fts f WHERE f.rowid = a.id)").fetchone()[0]
        assert missing == 0
        orphans = conn.execute("SELECT count(*) FROM attributions WHERE article_id NOT IN"
                               " (SELECT id FROM articles)").fetchone()[0]
        assert orphans == 0
        return int(total)
    finally:
        conn.close()


def test_sigterm_during_a_crawl_exits_cleanly(slow_site: SlowFixtureServer,
                                              snapshot: tuple[Path, dict[str, str]],
                                              tmp_path: Path) -> None:
    config = write_config(slow_site.base_url, tmp_path / "demo.toml")
    db = tmp_path / "run.db"
    with Proc(run_args(db, config, "run", "--log-format", "json", "--spread", "0",
                       "--grace", "2"), snapshot[1], tmp_path) as proc:
        proc.wait_for('"event": "fetch"')
        proc.p.send_signal(signal.SIGTERM)
        rc, err = proc.finish()
    assert rc == 0, err
    assert "Traceback" not in err
    events = proc.events()
    messages = [e.get("message", "") for e in events if e["event"] == "info"]
    assert any(m.startswith("SIGTERM: stopping") for m in messages)
    assert messages[-1] == "stopped"
    runs = [e for e in events if e["event"] == "source"]
    assert runs and all(e["status"] in ("ok", "not-modified", "failed", "cancelled")
                        for e in runs)
    intact(db)
    # every source that finished has its next check stored; cancelled ones are due again
    with Store.open(db) as store:
        finished = {e["source"] for e in runs if e["status"] != "cancelled"}
        stored = {s["name"]: s["next_check"] for s in store.sources()}
        assert all(stored[name] for name in finished)


class HangingServer:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def test_second_signal_exits_at_once(slow_site: SlowFixtureServer,
                                     snapshot: tuple[Path, dict[str, str]],
                                     tmp_path: Path) -> None:
    hang = HangingServer()
    try:
        extra = (f'\n[[sources]]\nname = "hangs"\nkind = "rss"\nrobots = false\n'
                 f'url = "http://127.0.0.1:{hang.port}/feed.xml"\ninterval = "1h"\n')
        config = write_config(slow_site.base_url, tmp_path / "demo.toml", extra)
        db = tmp_path / "twice.db"
        with Proc(run_args(db, config, "run", "--log-format", "json", "--spread", "0",
                           "--grace", "60"), snapshot[1], tmp_path) as proc:
            proc.wait_for('"event": "fetch"')
            proc.p.send_signal(signal.SIGTERM)
            proc.wait_for("SIGTERM: stopping")
            started = time.monotonic()
            proc.p.send_signal(signal.SIGINT)
            rc, err = proc.finish(timeout=10)
        assert time.monotonic() - started < 5
        assert rc == 128 + signal.SIGINT, err
        proc.wait_for("SIGINT again: exiting now")
        intact(db)
    finally:
        hang.close()


def test_two_writers_and_readers_never_see_a_locked_database(
        slow_site: SlowFixtureServer, snapshot: tuple[Path, dict[str, str]],
        tmp_path: Path) -> None:
    config = write_config(slow_site.base_url, tmp_path / "demo.toml")
    db = tmp_path / "shared.db"
    # no database yet: both writers create it at the same moment, then crawl side by side
    env = snapshot[1]
    outputs = []
    reads = 0
    runner = CliRunner()
    base = ["--db", str(db), "--config", str(config)]
    with Proc(run_args(db, config, "run", "--once", "--log-format", "json"), env,
              tmp_path) as daemon, Proc(run_args(db, config, "crawl"), env, tmp_path) as manual:
        while daemon.p.poll() is None or manual.p.poll() is None:
            for args in (["status", "--format", "json"], ["search", "sensor"], ["show", "1"],
                         ["sources", "list"]):
                result = runner.invoke(cli, [*base, *args])
                outputs.append(result.output
                               + (str(result.exception) if result.exception else ""))
                assert result.exit_code in (0, 1), result.output
                reads += 1
        rc1, err1 = daemon.finish()
        rc2, err2 = manual.finish()
    everything = "\n".join([*outputs, err1, err2, *daemon.lines, *manual.lines])
    assert "locked" not in everything
    assert (rc1, rc2) == (0, 0), (err1, err2)
    assert reads >= 4
    total = intact(db)
    assert total >= 20
