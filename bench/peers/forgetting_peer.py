#!/usr/bin/python3
"""The sweep race's peer: the trials of an `iclr run` of bench/sweeps/forgetting_race.toml, rerun
as a researcher would script them in PyTorch (a 2-process pool, one torch thread each, data loaded
once per process, gradients set to None rather than zeroed as PyTorch 2 does by default).

The trials are read back from iclr's database (config_json and seed of every finished run), so both
sides run the same grid; a parameter this script does not implement exits with an error rather
than being ignored. It draws what iclr draws from the same generators (Python's torch is the same
1.13 build as iclr's libtorch): the same data windows, initial weights and batch orders, so both
sides compute the same thing and their accuracies must agree to float rounding. --cache none pretrains the backbone in every trial (Hydra multirun or an Optuna
grid, one trial per job); --cache disk keeps each pretrained backbone in a folder keyed by what
made it, as a careful user would by hand. Prints one JSON object: wall seconds and every trial's
accuracies, forgetting and arithmetic (multiply-adds, and whether it ran its pretraining).

Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import hashlib
import json
import multiprocessing as mp
import os
import sqlite3
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_train import Mlp, read_idx  # the throughput peer's IDX reader and plugins/models/mlp

STATS = {"mnist": ("mnist", 0.1307, 0.3081), "fashion_mnist": ("fashion-mnist", 0.2860, 0.3530)}

# What this script implements; anything else in a trial's config is refused.
EXPECTED = {
    ("model", "plugin"): "mlp", ("method", "plugin"): "finetune", ("method", "optimizer"): "sgd",
    ("method", "objective"): "supervised", ("method", "head"): "task", ("method", "reset_optimizer"): True,
    ("method", "weight_decay"): 0.0, ("method", "pretrain_objective"): "supervised",
}
DATA_DEFAULTS = {"transform": "none", "ood_rotation": 0.0, "ood_noise": 0.0, "ood_contrast": 1.0, "ood_stroke": 0}


def check(cfg):
    for (section, key), want in EXPECTED.items():
        got = cfg[section]["plugin"] if key == "plugin" else cfg[section]["params"].get(key)
        if got != want:
            sys.exit(f"forgetting_peer: {section}.{key} = {got!r} is not implemented here (only {want!r})")
    for section in ("dataset", "pretrain"):
        if section not in cfg:
            continue
        if cfg[section]["plugin"] not in STATS:
            sys.exit(f"forgetting_peer: {section} plugin {cfg[section]['plugin']} is not implemented here")
        for key, want in DATA_DEFAULTS.items():
            if cfg[section]["params"][key] != want:
                sys.exit(f"forgetting_peer: {section}.{key} = {cfg[section]['params'][key]!r} is not implemented here")


_DATA = {}  # per process: each data set decoded once, as the user's script would keep it


def data_set(root, plugin):
    if plugin not in _DATA:
        folder, mean, sd = STATS[plugin]
        d = os.path.join(root, folder)
        norm = lambda u8: ((torch.from_numpy(u8.astype(np.float32)) / 255.0 - mean) / sd).unsqueeze(1)
        _DATA[plugin] = (norm(read_idx(os.path.join(d, "train-images-idx3-ubyte"))),
                         torch.from_numpy(read_idx(os.path.join(d, "train-labels-idx1-ubyte")).astype(np.int64)),
                         norm(read_idx(os.path.join(d, "t10k-images-idx3-ubyte"))),
                         torch.from_numpy(read_idx(os.path.join(d, "t10k-labels-idx1-ubyte")).astype(np.int64)))
    return _DATA[plugin]


MASK64 = (1 << 64) - 1


def generator(seed, stream=0):
    """iclr::make_generator(seed, stream): the same CPU generator (Python's torch is the same 1.13)."""
    return torch.Generator().manual_seed((seed ^ (stream * 0x9e3779b97f4a7c15)) & MASK64)


def window_end(n, per_class, skip):
    """Where a class's window of its n examples ends (per_class 0 = all after skip)."""
    return min(n, skip + per_class) if per_class > 0 else n


def select(x, y, classes, per_class, skip, split_seed, stream):
    """iclr's windows (plugins/datasets/common/idx_stream.hpp), drawn the same way: one fixed shuffled
    order per class, keep [skip, skip + per_class) of it (per_class 0 = all after skip)."""
    idx = []
    for c in classes:
        where = torch.nonzero(y == c).flatten()
        n = len(where)
        end = window_end(n, per_class, skip)
        if skip > 0 or end < n:
            where = where[torch.randperm(n, generator=generator(split_seed, 1 + 2 * c + stream))[skip:end]]
        idx.append(where)
    idx = torch.cat(idx).sort().values
    return x[idx], y[idx]


def tasks_of(root, section):
    p = section["params"]
    xtr, ytr, xte, yte = data_set(root, section["plugin"])
    return [(select(xtr, ytr, t, p["train_per_class"], p["train_skip"], p["split_seed"], 0),
             select(xte, yte, t, p["test_per_class"], 0, p["split_seed"], 1000), t) for t in p["tasks"]]


def batches(n, size, gen):
    order = torch.randperm(n, generator=gen)
    return [order[i:i + size] for i in range(0, n, size)]


def forward_macs(model):
    """Multiply-adds of one example through plugins/models/mlp and a 10-way linear head."""
    w, d = model["width"], model["depth"]
    return 784 * w + (d - 1) * w * w + w * 10


def step_macs(model):
    """One training example: the forward pass, every weight's gradient, and every layer's input
    gradient but the first's (the images need none): 3 forwards less the first layer's product."""
    return 3 * forward_macs(model) - 784 * model["width"]


def pretrain_set(cfg, root):
    tasks = tasks_of(root, cfg["pretrain"])
    return torch.cat([tr[0] for tr, _, _ in tasks]), torch.cat([tr[1] for tr, _, _ in tasks])


def pretrain_macs(cfg, root):
    """The arithmetic of the trial's pretraining stage, whether this process runs it or loads it:
    the windows' sizes from the label counts alone (selecting the images, as pretrain_set does,
    took 0.12 s a trial inside the timed race)."""
    p = cfg["pretrain"]["params"]
    per = torch.bincount(data_set(root, cfg["pretrain"]["plugin"])[1]).tolist()
    rows = sum(max(0, window_end(per[c], p["train_per_class"], p["train_skip"]) - p["train_skip"])
               for t in p["tasks"] for c in t)
    return cfg["method"]["params"]["pretrain_epochs"] * rows * step_macs(cfg["model"]["params"])


def pretrain(cfg, backbone, root):
    """Supervised over all [pretrain] classes through a temporary head (iclr's Pretraining)."""
    m = cfg["method"]["params"]
    x, y = pretrain_set(cfg, root)
    torch.manual_seed(cfg["seed"])  # iclr's Pretraining reseeds before its temporary head
    head = nn.Linear(cfg["model"]["params"]["width"], 10)
    opt = torch.optim.SGD(list(backbone.parameters()) + list(head.parameters()), lr=m["pretrain_lr"], momentum=m["momentum"])
    gen = generator(cfg["seed"] ^ 0x9e3779b97f4a7c15)
    for _ in range(m["pretrain_epochs"]):
        for b in batches(len(x), m["batch_size"], gen):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(head(backbone(x[b])), y[b]).backward()
            opt.step()


def pretrained(cfg, backbone, root, cache_dir):
    """Pretrains `backbone` or loads it from the cache; True when this call pretrained."""
    if cache_dir is None:
        pretrain(cfg, backbone, root)
        return True
    m = cfg["method"]["params"]
    what = [cfg["pretrain"], cfg["model"], m["pretrain_epochs"], m["pretrain_lr"], m["batch_size"], m["momentum"], cfg["seed"]]
    path = os.path.join(cache_dir, hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest() + ".pt")
    if os.path.exists(path):
        backbone.load_state_dict(torch.load(path))
        return False
    pretrain(cfg, backbone, root)
    torch.save(backbone.state_dict(), path + f".{os.getpid()}")
    os.replace(path + f".{os.getpid()}", path)  # the other worker may be writing the same key
    return True


def accuracy(backbone, head, test, mask):
    (x, y) = test
    with torch.no_grad():
        return (head(backbone(x)) + mask).argmax(1).eq(y).float().mean().item()


def trial(job):
    run_id, cfg, root, cache_dir = job
    t0 = time.perf_counter()
    torch.set_num_threads(1)
    torch.manual_seed(cfg["seed"])
    m, model = cfg["method"]["params"], cfg["model"]["params"]
    tasks = tasks_of(root, cfg["dataset"])
    backbone = Mlp(model["width"], model["depth"])
    ran_pretraining = m["pretrain_epochs"] > 0 and pretrained(cfg, backbone, root, cache_dir)
    torch.manual_seed(cfg["seed"])
    head = nn.Linear(model["width"], 10)
    masks = []
    for _, _, classes in tasks:
        mask = torch.full((10,), float("-inf"))
        mask[classes] = 0.0
        masks.append(mask)
    gen = generator(cfg["seed"])
    acc = []
    for t, ((x, y), _, _) in enumerate(tasks):
        opt = torch.optim.SGD(list(backbone.parameters()) + list(head.parameters()), lr=m["lr"], momentum=m["momentum"])
        for _ in range(m["epochs"]):
            for b in batches(len(x), m["batch_size"], gen):
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(head(backbone(x[b])) + masks[t], y[b]).backward()
                opt.step()
        acc.append([accuracy(backbone, head, test, masks[j]) for j, (_, test, _) in enumerate(tasks)])
    # The arithmetic of this trial (the same on both sides: it depends on the configuration only):
    # its training steps, one evaluation of every task's test set after each task, and the
    # pretraining stage it needs, with whether this process ran that stage or loaded it.
    trained = sum(m["epochs"] * len(x) for (x, _), _, _ in tasks) * step_macs(model)
    evaluated = len(tasks) * sum(len(test[0]) for _, test, _ in tasks) * forward_macs(model)
    return {"run_id": run_id, "acc": acc, "forgetting": acc[0][0] - acc[-1][0], "seconds": time.perf_counter() - t0,
            "macs": trained + evaluated, "pretrain_macs": pretrain_macs(cfg, root) if m["pretrain_epochs"] > 0 else 0,
            "pretrained_here": ran_pretraining}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True, help="iclr's database of the race sweep")
    ap.add_argument("--data", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", choices=["none", "disk"], default="none")
    ap.add_argument("--cache-dir", default="")
    a = ap.parse_args()
    t0 = time.perf_counter()
    with sqlite3.connect(a.db) as c:
        rows = c.execute("SELECT id, seed, config_json FROM runs WHERE status = 'done' ORDER BY id").fetchall()
    jobs = []
    for run_id, seed, text in rows:
        cfg = json.loads(text)
        cfg["seed"] = seed
        check(cfg)
        jobs.append((run_id, cfg, a.data, a.cache_dir if a.cache == "disk" else None))
    if a.cache == "disk":
        os.makedirs(a.cache_dir, exist_ok=True)
    with mp.get_context("fork").Pool(a.workers) as pool:
        results = list(pool.imap_unordered(trial, jobs, chunksize=1))
    print(json.dumps({"wall_s": time.perf_counter() - t0, "trials": sorted(results, key=lambda r: r["run_id"])}))


if __name__ == "__main__":
    main()
