#!/usr/bin/python3
# How often a claim with no effect at all gets a decisive verdict (held or not held) from a 95%
# interval over n seeds: the percentile bootstrap `iclr verify` used until 2026-12-03, and the
# interval it uses now (the wider of Student's t with the bootstrap's standard error and the
# percentiles). Pure-noise seeds, 2,000 claims per n, 2,000 resamples each, as verify does.
# Run: /usr/bin/python3 docs/bootstrap_null_rate.py   (Debian's python3-numpy; about a minute)
import math

import numpy as np

T_975 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 8: 2.365, 10: 2.262, 20: 2.093}
rng = np.random.default_rng(20221203)
print("seeds  percentile  now")
for n in sorted(T_975):
    old = new = 0
    for _ in range(2000):
        d = rng.standard_normal(n)
        reps = d[rng.integers(0, n, (2000, n))].mean(axis=1)
        lo, hi = np.quantile(reps, [0.025, 0.975])
        old += lo > 0 or hi < 0
        half = T_975[n] * reps.std(ddof=1) * math.sqrt(n / (n - 1))
        lo2, hi2 = min(d.mean() - half, lo), max(d.mean() + half, hi)
        new += lo2 > 0 or hi2 < 0
    print(f"{n:5d}  {old / 2000:10.3f}  {new / 2000:.3f}")
