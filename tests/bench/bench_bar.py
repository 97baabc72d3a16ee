"""The bar's benchmarks: click to durable, cold start to painted, memory.

Run: .venv/bin/python -m tests.bench.bench_bar [--clicks 1000]
Prints each figure next to its target. Not a test: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROBE = textwrap.dedent(
    """
    import sys, time
    from app.ui.bar import Bar

    def rss_kb():
        with open("/proc/self/status") as status:
            return next(int(x.split()[1]) for x in status if x.startswith("VmRSS"))

    paint, attach = Bar.paintEvent, Bar.attach
    def painted(self, event):
        paint(self, event)
        if not getattr(Bar, "_painted", False):
            Bar._painted = True
            print(f"PAINTED {time.time():.6f} {rss_kb()}", flush=True)
        if self.ready:
            print(f"READY {time.time():.6f} {rss_kb()}", flush=True)
            from PySide6.QtWidgets import QApplication
            self.stop()
            QApplication.instance().quit()
            Bar.paintEvent = paint
    def attached(self, recorder):
        attach(self, recorder)
        self.repaint()
    Bar.paintEvent, Bar.attach = painted, attached
    from app.cli import main
    sys.exit(main(["--data-dir", sys.argv[1]]))
    """
)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def show(name: str, value: str, target: str, ok: bool) -> None:
    print(f"{name:<52} {value:>14}   target {target:<12} {'ok' if ok else 'MISSED'}")


def cold_start(runs: int) -> None:
    """Process spawn to the bar's first paint, then to the bar ready to record (journal open,
    shift start committed, state painted), with the RSS at each (real journal, new data dir)."""
    painted, ready, rss_painted, rss_ready = [], [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.time()
            done = subprocess.run(
                [sys.executable, "-c", PROBE, tmp],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            marks = {
                x.split()[0]: x.split()[1:]
                for x in done.stdout.splitlines()
                if x.startswith(("PAINTED", "READY"))
            }
            if set(marks) != {"PAINTED", "READY"}:
                print("cold start: the bar never got ready:", done.stderr[-500:])
                return
            painted.append(float(marks["PAINTED"][0]) - t0)
            ready.append(float(marks["READY"][0]) - t0)
            rss_painted.append(int(marks["PAINTED"][1]) / 1024)
            rss_ready.append(int(marks["READY"][1]) / 1024)
    med = statistics.median
    show(
        f"cold start to bar painted (median of {runs})",
        f"{med(painted):.3f} s",
        "<= 0.7 s",
        med(painted) <= 0.7,
    )
    show(f"cold start to bar ready to record (median of {runs})", f"{med(ready):.3f} s", "-", True)
    show(
        "RSS when painted (median)",
        f"{med(rss_painted):.1f} MB",
        "<= 90 MB",
        med(rss_painted) <= 90,
    )
    show(
        "RSS when ready to record (median)",
        f"{med(rss_ready):.1f} MB",
        "<= 90 MB",
        med(rss_ready) <= 90,
    )


def clicks_and_memory(clicks: int) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.config import Settings
    from app.domain.clock import FakeClock, SystemClock
    from app.domain.events import Key
    from app.journal import Journal
    from app.recording import Recorder
    from app.ui.bar import TICK_MS, Bar
    from app.ui.theme import stylesheet

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([])
    app.setStyleSheet(stylesheet())
    keys = [Key.PRODUCTION, Key.PAUSE, Key.OFF]
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "journal.sqlite3")
        recorder = Recorder(journal, SystemClock(), agent="bench", activities=["A"])
        recorder.start()
        bar = Bar(recorder, Settings())
        bar.show()
        app.processEvents()
        latencies, handled = [], []
        committed_at = [0.0]
        append = journal.append

        def timed_append(*events):  # type: ignore[no-untyped-def]
            written = append(*events)
            committed_at[0] = time.perf_counter()  # the commit (fsync included) returned
            return written

        journal.append = timed_append  # type: ignore[method-assign]
        for i in range(clicks):
            button = bar.keys[keys[i % 3]]
            t0 = time.perf_counter()
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)  # press, release, repaints
            done = time.perf_counter()
            latencies.append((committed_at[0] - t0) * 1000)
            handled.append((done - t0) * 1000)
            assert button.active
        stored = len(journal.entries())
        assert stored == clicks + 1, stored
        latencies.sort()
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        show(f"click -> durable commit, p50 ({clicks} clicks)", f"{p50:.2f} ms", "-", True)
        show(
            f"click -> durable commit, p99 ({clicks} clicks)", f"{p99:.2f} ms", "<= 5 ms", p99 <= 5
        )
        show("click -> durable commit, max", f"{latencies[-1]:.2f} ms", "-", True)
        handled.sort()
        show(
            "click fully handled incl. repaint, p99",
            f"{handled[int(len(handled) * 0.99) - 1]:.2f} ms",
            "-",
            True,
        )
        bar.stop()
        journal.close()

    # Memory growth: from 1,000 to 10,000 clicks, then 8 simulated hours of ticks.
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "journal.sqlite3")
        clock = FakeClock(time.time_ns() // 1_000_000, "Europe/Paris")
        recorder = Recorder(journal, clock, agent="bench", activities=["A"])
        recorder.start()
        bar = Bar(recorder, Settings())
        bar.show()
        bar.stop()  # drive ticks by hand with the fake clock
        for i in range(10_000):
            if i == 1_000:
                gc.collect()
                app.processEvents()
                at_1k = rss_mb()
            clock.advance(1_000)
            bar.press(keys[i % 3])
            if i % 200 == 0:
                app.processEvents()
        gc.collect()
        app.processEvents()
        at_10k = rss_mb()
        show(
            "RSS growth 1,000 -> 10,000 clicks",
            f"{at_10k - at_1k:+.2f} MB",
            "< 2 MB",
            at_10k - at_1k < 2,
        )
        before = rss_mb()
        ticks = 8 * 3600 * 1000 // TICK_MS
        for i in range(ticks):
            clock.advance(TICK_MS)
            bar.tick()
            if i % 2000 == 0:
                app.processEvents()
        gc.collect()
        app.processEvents()
        after = rss_mb()
        show(
            f"RSS growth over 8 h of ticks ({ticks} ticks)",
            f"{after - before:+.2f} MB",
            "< 2 MB",
            after - before < 2,
        )
        journal.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clicks", type=int, default=1000)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    print(f"Bandeau bar benchmarks — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    cold_start(args.starts)
    clicks_and_memory(args.clicks)


if __name__ == "__main__":
    main()
