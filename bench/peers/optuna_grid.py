#!/usr/bin/python3
"""Optuna peer of the orchestration benchmark: a grid of N trivial trials, SQLite storage,
GridSampler, 10 intermediate values reported per trial. Prints {"ms_per_trial": ...}."""
import json
import sys
import time

import optuna


def main():
    n, db = int(sys.argv[1]), sys.argv[2]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.GridSampler({"x": list(range(n))})
    study = optuna.create_study(storage=f"sqlite:///{db}", sampler=sampler, study_name="bench")

    def objective(trial):
        x = trial.suggest_categorical("x", list(range(n)))
        for step in range(10):
            trial.report(step * 0.5, step)
        return float(x)

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n)
    secs = time.perf_counter() - t0
    print(json.dumps({"ms_per_trial": secs * 1000 / n, "trials": n}))


if __name__ == "__main__":
    main()
