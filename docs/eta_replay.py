#!/usr/bin/python3
# How far the sweep ETA is from the time actually left, replayed on the recorded trials of finished
# runs: each run's start and duration from a results database, fed in time order to a port of
# host/cli/eta.cpp (CostEta) every 2 s; the estimate compared with the time the run still took,
# while more than 5% of it was left. Three estimators: the costs as they were until 2026-12-04
# (every integer size of a trial), the costs the ETA uses now (only the sizes every trial has above
# 0, run_plan.hpp's trial_costs), and now plus the floor (a cost none has finished at takes at least
# as long as its longest running trial has run). Prints the factor between estimate and truth:
# median, worst, and the share of the time within 2x.
# Run: /usr/bin/python3 docs/eta_replay.py DB...   (one sweep per database, as `iclr run --db`)
import datetime
import math
import sqlite3
import statistics
import sys


class CostEta:  # host/cli/eta.cpp, line for line
    def __init__(self, cost_by_run, floor):
        self.unfinished, self.running, self.left_by_cost, self.seen = dict(cost_by_run), {}, {}, {}
        self.finished_seconds, self.floor = 0.0, floor
        for c in self.unfinished.values():
            self.left_by_cost[c] = self.left_by_cost.get(c, 0) + 1

    def started(self, run, at):
        if run in self.unfinished:
            self.running[run] = at

    def finished(self, run, seconds):
        c = self.unfinished.pop(run)
        self.running.pop(run, None)
        self.left_by_cost[c] -= 1
        if self.left_by_cost[c] == 0:
            del self.left_by_cost[c]
        n, total = self.seen.get(c, (0, 0.0))
        self.seen[c] = (n + 1, total + seconds)
        self.finished_seconds += seconds

    def slope(self):
        n = sx = sy = sxx = sxy = 0.0
        costs = 0
        for c, (m, total) in self.seen.items():
            if total <= 0:
                continue
            y = math.log(total / m)
            n, sx, sy, sxx, sxy = n + m, sx + m * c, sy + m * y, sxx + m * c * c, sxy + m * c * y
            costs += 1
        var = sxx - sx * sx / n if n else 0
        if costs < 2 or var <= 0:
            return 1.0
        return min(1.0, max(0.0, (sxy - sx * sy / n) / var))

    def expected_seconds(self, cost, beta, floor):
        if cost in self.seen:
            m, total = self.seen[cost]
            return total / m
        nearest = min(self.seen, key=lambda c: (abs(c - cost), -c))  # a tie: the cost above
        m, total = self.seen[nearest]
        return max(floor, total / m * math.exp(beta * (cost - nearest)))

    def left(self, elapsed):
        if self.finished_seconds <= 0:
            return None
        beta, expected, done, longest = self.slope(), 0.0, self.finished_seconds, {}
        if self.floor:
            for run, at in self.running.items():
                c = self.unfinished[run]
                longest[c] = max(longest.get(c, 0.0), elapsed - at)
        for c, n in self.left_by_cost.items():
            expected += n * self.expected_seconds(c, beta, longest.get(c, 0.0))
        for run, at in self.running.items():
            ran = max(0.0, elapsed - at)
            done += ran
            c = self.unfinished[run]
            expected -= min(ran, self.expected_seconds(c, beta, longest.get(c, 0.0)))
        return elapsed * max(0.0, expected) / done


def costs(con, runs, comparable):  # run_plan.cpp's trial_sizes and trial_costs
    sizes = {r: {} for r in runs}
    for run, key, kind, value in con.execute("SELECT run_id, key, type, value FROM params ORDER BY key"):
        if run in sizes and kind == "int" and value > 0 and not key.endswith("seed"):
            sizes[run][key] = value
    common = set.intersection(*(set(s) for s in sizes.values()))
    return {r: sum(math.log1p(v) for k, v in s.items() if not comparable or k in common)
            for r, s in sizes.items()}


def stamp(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def replay(con, comparable, floor, step=2.0):
    rows = con.execute("SELECT id, started_at, duration_s FROM runs WHERE status = 'done'").fetchall()
    t0 = min(stamp(s) for _, s, _ in rows)
    starts = [(stamp(s) - t0, 1, r, 0.0) for r, s, d in rows]
    events = sorted(starts + [(stamp(s) - t0 + d, 0, r, d) for r, s, d in rows])
    end = events[-1][0]
    eta, factors, i, t = CostEta(costs(con, [r for r, _, _ in rows], comparable), floor), [], 0, 0.0
    while t < end:
        while i < len(events) and events[i][0] <= t:
            at, is_start, run, seconds = events[i]
            eta.started(run, at) if is_start else eta.finished(run, seconds)
            i += 1
        estimate, truth = eta.left(t), end - t
        if estimate is not None and truth > 0.05 * end:
            factors.append(max(max(estimate, 1.0) / truth, truth / max(estimate, 1.0)))
        t += step
    return end, factors


print("sweep               wall    until 2026-12-04        sizes every trial has   + floor")
for db in sys.argv[1:]:
    con = sqlite3.connect(db)
    name = con.execute("SELECT name FROM sweeps ORDER BY id DESC LIMIT 1").fetchone()[0]
    cells = []
    for comparable, floor in ((False, False), (True, False), (True, True)):
        end, f = replay(con, comparable, floor)
        cells.append(f"{statistics.median(f):4.2f}x {max(f):5.1f}x {sum(x < 2 for x in f) / len(f):4.0%}")
    print(f"{name:18s} {end / 60:5.1f}m   " + "   ".join(cells))
print("each cell: the factor between estimate and time left, median and worst, and the share within 2x")
