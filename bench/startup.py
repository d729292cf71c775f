#!/usr/bin/env python3
"""Time from exec to the first 200 of /__lbheartbeat__, over several starts of the service.

usage: startup.py APP PORT STARTS [APP_CPU POLL_CPU]

The clock starts just before the spawn, so fork and exec are included. The service is spawned on
APP_CPU (it inherits this process's affinity at that moment) and the poller then moves to POLL_CPU,
so polling never takes the core the service starts on. The environment is passed through, minus
DATABASE_URL and REDIS_URL: this measures the service itself, not a dependency's connection set-up.
Prints one line per start (milliseconds), then "median min max" on the last line.
"""

import os
import socket
import statistics
import subprocess
import sys
import time

REQUEST = b"GET /__lbheartbeat__ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
START_TIMEOUT_S = 5.0


def first_200(port: int, deadline_ns: int) -> int | None:
    """Polls until a 200 arrives; returns its monotonic time, or None at the deadline."""
    while time.monotonic_ns() < deadline_ns:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(REQUEST)
                head = conn.recv(16)
                if head.startswith(b"HTTP/1.1 200"):
                    return time.monotonic_ns()
        except OSError:
            pass
        time.sleep(0.0002)
    return None


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> int:
    if len(sys.argv) not in (4, 6):
        print(__doc__, file=sys.stderr)
        return 2
    app, port, starts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    app_cpu, poll_cpu = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) == 6 else (None, None)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PORT=str(port), HOST="127.0.0.1", DOCKERFLOW_DRAIN_SECONDS="0")

    samples = []
    for _ in range(starts):
        if app_cpu is not None:
            os.sched_setaffinity(0, {app_cpu})
        started = time.monotonic_ns()
        proc = subprocess.Popen([app], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if poll_cpu is not None:
            os.sched_setaffinity(0, {poll_cpu})
        try:
            answered = first_200(port, started + int(START_TIMEOUT_S * 1e9))
        finally:
            stop(proc)
        if answered is None:
            print(f"startup: no 200 within {START_TIMEOUT_S} s (exit status {proc.returncode})", file=sys.stderr)
            return 1
        samples.append((answered - started) / 1e6)
        print(f"{samples[-1]:.2f}")
    print(f"{statistics.median(samples):.2f} {min(samples):.2f} {max(samples):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
