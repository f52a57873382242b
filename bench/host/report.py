#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""bench/host/report.py: the parsing and the tables of bench/host/run.

  report.py iperf FILE          iperf3 -J output -> "Gbit/s retransmits" (receiver's rate)
  report.py ping COUNT FILE     ping output -> "avg p50 p99 lost" (RTT in us)
  report.py table ROUNDS.TSV    markdown tables: medians, spread, ratios to direct
  report.py section DOC FILE    replace (or append) DOC's "## Host rings" section by FILE

Missing figures are "nan" and stay out of medians; a ratio is taken per round
(path / direct of the same round), then the median of those.
"""
import json
import math
import re
import sys

NAN = float("nan")


def fail(msg):
    print("report.py: " + msg, file=sys.stderr)
    sys.exit(1)


def iperf(path):
    try:
        with open(path) as f:
            j = json.load(f)
    except (OSError, ValueError) as e:
        print("nan nan")
        print("report.py: %s: not iperf3 JSON: %s" % (path, e), file=sys.stderr)
        return
    if "error" in j:
        print("report.py: %s: iperf3: %s" % (path, j["error"]), file=sys.stderr)
    end = j.get("end", {})
    rx = end.get("sum_received", {}).get("bits_per_second")
    retr = end.get("sum_sent", {}).get("retransmits")
    print("%s %s" % ("%.3f" % (rx / 1e9) if rx else "nan",
                     retr if retr is not None else "nan"))


def pct(v, p):
    """p-th percentile, nearest rank, of sorted v"""
    if not v:
        return NAN
    k = max(1, math.ceil(p / 100.0 * len(v)))
    return v[k - 1]


def ping(count, path):
    rtt = []
    with open(path) as f:
        for line in f:
            m = re.search(r"time=([0-9.]+) ms", line)
            if m:
                rtt.append(float(m.group(1)) * 1000.0)
    rtt.sort()
    if not rtt:
        print("nan nan nan %d" % count)
        return
    print("%.1f %.1f %.1f %d" % (sum(rtt) / len(rtt), pct(rtt, 50), pct(rtt, 99),
                                 max(0, count - len(rtt))))


COLS = ["round", "path", "ba", "ab", "retr_ba", "retr_ab", "avg", "p50", "p99", "lost", "xdrop"]


def num(s):
    try:
        return float(s)
    except ValueError:
        return NAN


def med(v):
    v = sorted(x for x in v if not math.isnan(x))
    if not v:
        return NAN
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def spread(v):
    v = [x for x in v if not math.isnan(x)]
    return (min(v), max(v)) if v else (NAN, NAN)


def f(x, d=2):
    return "-" if math.isnan(x) else "%.*f" % (d, x)


DESC = {
    "direct": "direct (veth, no program)",
    "nic2host": "**nic2host -i netmap:VA**",
    "bridge": "**bridge -w 0 -i netmap:VA**",
}


def table(path):
    rows = []
    with open(path) as fh:
        for line in fh:
            p = line.rstrip("\n").split("\t")
            if len(p) != len(COLS):
                continue
            r = dict(zip(COLS, p))
            for k in COLS[2:]:
                r[k] = num(r[k])
            rows.append(r)
    if not rows:
        fail("%s: no rounds" % path)
    paths = []
    for r in rows:
        if r["path"] not in paths:
            paths.append(r["path"])
    nround = len(set(r["round"] for r in rows))
    by = {(r["round"], r["path"]): r for r in rows}

    print("| path (%d rounds, medians; min-max) | B->A Gbit/s | A->B Gbit/s "
          "| retransmits B->A / A->B | VA drops B->A | RTT avg us | RTT p50 us | RTT p99 us | pings lost |" % nround)
    print("|---|---|---|---|---|---|---|---|---|")
    for p in paths:
        rs = [r for r in rows if r["path"] == p]
        cell = []
        for k in ("ba", "ab"):
            v = [r[k] for r in rs]
            lo, hi = spread(v)
            cell.append("%s (%s-%s)" % (f(med(v)), f(lo), f(hi)))
        retr = "%s / %s" % (f(med([r["retr_ba"] for r in rs]), 0), f(med([r["retr_ab"] for r in rs]), 0))
        rtt = []
        for k in ("avg", "p50", "p99"):
            v = [r[k] for r in rs]
            lo, hi = spread(v)
            rtt.append("%s (%s-%s)" % (f(med(v), 0), f(lo, 0), f(hi, 0)))
        lost = sum(0 if math.isnan(r["lost"]) else r["lost"] for r in rs)
        xd = f(med([r["xdrop"] for r in rs]), 0)
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (DESC.get(p, p), cell[0], cell[1], retr, xd,
                                                                 rtt[0], rtt[1], rtt[2], lost))
    others = [p for p in paths if p != "direct"]
    if "direct" not in paths or not others:
        return
    print()
    print("| ratio to direct (per round, then median; min-max) | B->A throughput | A->B throughput "
          "| RTT avg | RTT p99 |")
    print("|---|---|---|---|---|")
    for p in others:
        cell = []
        for k in ("ba", "ab", "avg", "p99"):
            v = []
            for (rnd, pp), r in by.items():
                d = by.get((rnd, "direct"))
                if pp != p or d is None or math.isnan(r[k]) or math.isnan(d[k]) or d[k] <= 0:
                    continue
                v.append(r[k] / d[k])
            lo, hi = spread(v)
            m = med(v)
            if k in ("avg", "p99"):
                cell.append("%sx (%s-%s)" % (f(m, 1), f(lo, 1), f(hi, 1)))
            else:
                cell.append("%s (%s-%s)" % (f(m, 3), f(lo, 3), f(hi, 3)))
        print("| %s / direct | %s |" % (p, " | ".join(cell)))


def section(doc, new):
    with open(doc) as fh:
        text = fh.read()
    with open(new) as fh:
        sec = fh.read().rstrip("\n") + "\n"
    if not sec.startswith("## Host rings"):
        fail("%s: does not start with '## Host rings'" % new)
    m = re.search(r"^## Host rings\b.*?(?=^## |\Z)", text, flags=re.S | re.M)
    if m:
        rest = text[m.end():]
        text = text[:m.start()] + sec + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + sec
    with open(doc, "w") as fh:
        fh.write(text)


def main(a):
    if len(a) == 2 and a[0] == "iperf":
        iperf(a[1])
    elif len(a) == 3 and a[0] == "ping":
        ping(int(a[1]), a[2])
    elif len(a) == 2 and a[0] == "table":
        table(a[1])
    elif len(a) == 3 and a[0] == "section":
        section(a[1], a[2])
    else:
        fail("usage: iperf FILE | ping COUNT FILE | table ROUNDS.TSV | section DOC FILE")


if __name__ == "__main__":
    main(sys.argv[1:])
