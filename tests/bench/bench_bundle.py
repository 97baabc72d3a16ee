"""The bundle's figures: size on disk and compressed, start to painted and to ready, RSS.

Run (after `.venv/bin/python installer/build.py`):
    .venv/bin/python -m tests.bench.bench_bundle [--starts 7] [--bundle dist/bandeau]

Each start is the built executable with a new data folder, offscreen; it says when it painted
and when it is ready (BANDEAU_START_MARKS), and its RSS is read from /proc when ready. The
yardstick, started alternately in the same run: a bare PySide6 window of three buttons that
commits one row with a bare sqlite3 (tests/bench/bench_bar.py's), run from the venv's Python.
Not a test: the machines are shared and noisy. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from tests.bench.bench_bar import BARE, one_start

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "installer"))
import layout  # noqa: E402


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(x.split()[1]) for x in status if x.startswith("VmRSS")) / 1024


def bundle_start(executable: Path) -> tuple[float, float, float, float] | None:
    """(to painted s, to ready s, RSS ready MB, RSS ready MB) of one start of the bundle."""
    with tempfile.TemporaryDirectory() as data:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BANDEAU_")},
            "QT_QPA_PLATFORM": "offscreen",
            "BANDEAU_START_MARKS": "1",
            "BANDEAU_DATA_DIR": data,
        }
        t0 = time.time()
        child = subprocess.Popen(
            [str(executable)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env
        )
        assert child.stderr is not None
        marks: dict[str, float] = {}
        buffered = b""
        deadline = time.monotonic() + 60
        rss = float("nan")
        try:
            while "ready" not in marks and time.monotonic() < deadline:
                ready, _, _ = select.select([child.stderr], [], [], 1.0)
                if not ready:
                    continue
                chunk = os.read(child.stderr.fileno(), 65536)
                if not chunk:
                    break
                buffered += chunk
                for line in buffered.decode(errors="replace").splitlines():
                    for name, prefix in (
                        ("painted", "Bandeau painted"),
                        ("ready", "Bandeau ready"),
                    ):
                        if line.startswith(prefix) and "at=" in line:
                            marks[name] = float(line.split("at=")[1].split()[0])
            if "ready" in marks:
                rss = rss_mb(child.pid)
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    if set(marks) != {"painted", "ready"}:
        print("bundle start: never got ready:", buffered.decode(errors="replace")[-800:])
        return None
    return marks["painted"] - t0, marks["ready"] - t0, rss, rss


def show(name: str, value: str, target: str, ok: bool | None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"{name:<48} {value:>12}   target {target:<10} {verdict}")


def sizes(bundle: Path) -> None:
    on_disk = sum(p.lstat().st_size for p in bundle.rglob("*") if p.is_file())
    show("bundle size on disk (MB)", f"{on_disk / 1e6:.1f}", "<= 150", on_disk <= 150e6)
    with tempfile.TemporaryDirectory() as tmp:
        packed = Path(tmp) / "bundle.tar.gz"
        with tarfile.open(packed, "w:gz", compresslevel=9) as tar:
            tar.add(bundle, arcname=layout.NAME)
        size = packed.stat().st_size
    show("bundle compressed, tar.gz -9 (MB)", f"{size / 1e6:.1f}", "<= 60", size <= 60e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=7)
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / layout.NAME)
    args = parser.parse_args()
    executable = args.bundle / layout.EXECUTABLE
    if not executable.exists():
        raise SystemExit(f"no bundle at {args.bundle}: run .venv/bin/python installer/build.py")
    sizes(args.bundle)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    one_start(BARE)
    bundle_start(executable)  # the first start of all pays the disk cache, for both
    ours, bare = [], []
    for _ in range(args.starts):
        yard = one_start(BARE)
        mine = bundle_start(executable)
        if yard is None or mine is None:
            return
        bare.append(yard)
        ours.append(mine)
    med = statistics.median
    print(f"{'':<48} {'bare':>9} {'bundle':>9} {'ratio':>7}")
    for label, i, limit in (
        ("start -> bar painted (s)", 0, 1.0),
        ("start -> ready to record (s)", 1, None),
        ("RSS when ready (MB)", 3, 90.0),
    ):
        b, o = med(r[i] for r in bare), med(r[i] for r in ours)
        ratio = med(m[i] / y[i] for m, y in zip(ours, bare, strict=True))
        target = f"<= {limit:g}" if limit is not None else "-"
        verdict = "" if limit is None else ("ok" if o <= limit else "MISSED")
        fmt = "{:.3f}" if i < 2 else "{:.1f}"
        print(
            f"{label + f' (median of {args.starts})':<48} {fmt.format(b):>9} "
            f"{fmt.format(o):>9} {ratio:>6.2f}x   target {target:<8} {verdict}"
        )


if __name__ == "__main__":
    main()
