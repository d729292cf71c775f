#!/usr/bin/env python3
"""Steady, bounded HTTP load for the container tests, and the report over it.

  load.py run URL RATE MAX_SECONDS LOG STOP_FILE
      GET URL at RATE requests per second (a new connection for each, spread over a few threads)
      until STOP_FILE exists or MAX_SECONDS have passed. One line per request in LOG:
      "<epoch seconds> <status or 000> <commit from the JSON body or -> <error or ->".
  load.py report LOG MARKS
      MARKS holds "<name>_start <epoch>" / "<name>_end <epoch>" lines. Prints, as JSON, for the
      whole run and for each named window: requests sent, failed (anything but a 2xx, or no answer),
      requests per second, answers per commit, and when each commit was first and last seen.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

THREADS = 8
TIMEOUT_S = 5


def run(url, rate, max_seconds, log_path, stop_file):
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    interval = 1.0 / rate
    start = time.time()
    deadline = start + max_seconds
    lock = threading.Lock()
    next_slot = [start]
    lines = []

    def one():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_S)
        status, commit, error = 0, "-", "-"
        try:
            conn.request("GET", path, headers={"Connection": "close", "User-Agent": "dockerflow-load"})
            response = conn.getresponse()
            body = response.read()
            status = response.status
            try:
                commit = json.loads(body).get("commit", "-") or "-"
            except (ValueError, AttributeError):
                commit = "-"
        except (OSError, http.client.HTTPException) as e:
            error = type(e).__name__
        finally:
            conn.close()
        return status, commit, error

    def worker():
        while True:
            with lock:
                slot = next_slot[0]
                next_slot[0] = slot + interval
            if slot >= deadline or os.path.exists(stop_file):
                return
            delay = slot - time.time()
            if delay > 0:
                time.sleep(delay)
            t = time.time()
            status, commit, error = one()
            with lock:
                lines.append("%.3f %03d %s %s\n" % (t, status, commit, error))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
    for t in threads:
        t.start()
    # Flush the lines as they come, so a test that fails half-way still has them.
    with open(log_path, "w", encoding="utf-8") as log:
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            with lock:
                pending, lines[:] = lines[:], []
            log.writelines(pending)
            log.flush()
        log.writelines(lines)


def summarize(records, start=None, end=None):
    window = [r for r in records if (start is None or r[0] >= start) and (end is None or r[0] < end)]
    commits = {}
    for t, _status, commit, _error in window:
        c = commits.setdefault(commit, {"answers": 0, "first": t, "last": t})
        c["answers"] += 1
        c["last"] = t
    failures = [r for r in window if not 200 <= r[1] < 300]
    first = start if start is not None else (window[0][0] if window else 0)
    last = end if end is not None else (window[-1][0] if window else 0)
    seconds = max(last - first, 1e-9)
    return {
        "sent": len(window),
        "failed": len(failures),
        "seconds": round(seconds, 1),
        "rate": round(len(window) / seconds, 1),
        "commits": {k: {"answers": v["answers"], "first": round(v["first"], 3), "last": round(v["last"], 3)}
                    for k, v in commits.items()},
        "first_failures": ["%.3f %03d %s" % (t, s, e) for t, s, _c, e in failures[:10]],
    }


def report(log_path, marks_path):
    records = []
    with open(log_path, encoding="utf-8") as log:
        for line in log:
            t, status, commit, error = line.split()
            records.append((float(t), int(status), commit, error))
    records.sort()
    marks = {}
    with open(marks_path, encoding="utf-8") as f:
        for line in f:
            name, value = line.split()
            marks[name] = float(value)
    result = {"all": summarize(records), "marks": marks}
    for name in sorted(k[: -len("_start")] for k in marks if k.endswith("_start")):
        result[name] = summarize(records, marks[name + "_start"], marks.get(name + "_end"))
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()


def main(argv):
    if len(argv) == 7 and argv[1] == "run":
        run(argv[2], float(argv[3]), float(argv[4]), argv[5], argv[6])
    elif len(argv) == 4 and argv[1] == "report":
        report(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
