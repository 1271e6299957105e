#!/usr/bin/env python3
# Side by side: one sweep run on a GPU and on the CPU (same code, same machine). Matches trials by
# arm, seed and every parameter, and prints each side's devices and statuses and, per final metric,
# the largest and median absolute difference.   docs/device_compare.py GPU_DB CPU_DB
import json
import sqlite3
import sys


def rows(db):
    # Read-only: a sweep stopped before it made its database leaves none, and none is created here.
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        listed = c.execute("SELECT run_id, key, value FROM params").fetchall()
    except sqlite3.Error as e:
        sys.exit(f"   nothing to compare: {db} has no runs ({e})")
    params = {}
    for run, key, value in listed:
        params.setdefault(run, []).append((key, str(value)))
    out = {}
    q = """SELECT r.id, r.arm, r.seed, r.device, r.status, f.key, f.value
           FROM runs r JOIN final_metrics f ON f.run_id = r.id"""
    for run, arm, seed, device, status, key, value in c.execute(q):
        trial = (arm, seed, tuple(sorted(params.get(run, []))))
        out[(trial, key)] = (value, device, status)
    return out


gpu, cpu = rows(sys.argv[1]), rows(sys.argv[2])
both = sorted(set(gpu) & set(cpu), key=str)
print(json.dumps({"matched": len(both), "gpu_only": len(set(gpu) - set(cpu)), "cpu_only": len(set(cpu) - set(gpu))}))
print("devices gpu:", sorted({v[1] for v in gpu.values()}), "cpu:", sorted({v[1] for v in cpu.values()}))
print("status gpu:", sorted({v[2] for v in gpu.values()}), "cpu:", sorted({v[2] for v in cpu.values()}))
by = {}
for k in both:
    if gpu[k][0] is not None and cpu[k][0] is not None:
        by.setdefault(k[1], []).append(abs(gpu[k][0] - cpu[k][0]))
for metric, ds in sorted(by.items()):
    ds.sort()
    print(json.dumps({"metric": metric, "n": len(ds), "max_abs_diff": ds[-1], "median_abs_diff": ds[len(ds) // 2]}))
