#!/usr/bin/python3
"""Process-per-trial peer (what Hydra-style launchers pay): each trial is a fresh Python process
that imports torch and writes its 10 values to a JSON file. Prints {"ms_per_trial": ...}."""
import json
import os
import subprocess
import sys
import time

CHILD = """
import json, sys, torch
json.dump({"values": [k * 0.5 for k in range(10)]}, open(sys.argv[1], "w"))
"""


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    for i in range(n):
        subprocess.run(["/usr/bin/python3", "-c", CHILD, f"{out}/trial{i}.json"], check=True)
    secs = time.perf_counter() - t0
    print(json.dumps({"ms_per_trial": secs * 1000 / n, "trials": n}))


if __name__ == "__main__":
    main()
