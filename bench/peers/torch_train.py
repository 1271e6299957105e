#!/usr/bin/python3
"""PyTorch peer of the `throughput` plugin: the same models, data, batch, optimiser and thread count.

Prints one JSON line: {"samples_per_s": ...}. Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Mlp(nn.Module):  # plugins/models/mlp
    def __init__(self, width, depth):
        super().__init__()
        layers, prev = [], 784
        for _ in range(depth):
            layers += [nn.Linear(prev, width), nn.ReLU()]
            prev = width
        self.layers = nn.Sequential(*layers)
        self.feature_dim = width

    def forward(self, x):
        return self.layers(x.flatten(1))


class Cnn(nn.Module):  # plugins/models/cnn
    def __init__(self, width, depth):
        super().__init__()
        layers, c = [], 1
        for k in range(depth):
            out = width << min(k, 2)
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU()]
            if k < 2:
                layers.append(nn.MaxPool2d(2))
            c = out
        self.layers = nn.Sequential(*layers)
        self.feature_dim = c

    def forward(self, x):
        return self.layers(x).mean((2, 3))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.qkv, self.proj = heads, nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x):
        n, l, d = x.shape
        t = self.qkv(x).view(n, l, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = t[0], t[1], t[2]
        attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), -1)
        return self.proj((attn @ v).transpose(1, 2).reshape(n, l, d))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class Vit(nn.Module):  # plugins/models/vit (pool = cls)
    def __init__(self, width, depth, heads=4, patch=7, mlp_ratio=2):
        super().__init__()
        tokens = (28 // patch) ** 2
        self.embed = nn.Conv2d(1, width, patch, stride=patch)
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, width) * 0.02)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.blocks = nn.Sequential(*[Block(width, heads, width * mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(width)
        self.feature_dim = width

    def forward(self, x):
        t = self.embed(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(t.shape[0], 1, -1), t], 1)
        return self.norm(self.blocks(t + self.pos))[:, 0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", choices=["mlp", "cnn", "vit"], required=True)
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--depth", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.from_numpy(read_idx(f"{a.data}/mnist/train-images-idx3-ubyte").copy()).float().div_(255).sub_(0.1307).div_(0.3081).unsqueeze(1)
    y = torch.from_numpy(read_idx(f"{a.data}/mnist/train-labels-idx1-ubyte").astype(np.int64))
    model = {"mlp": Mlp, "cnn": Cnn, "vit": Vit}[a.model](a.width, a.depth)
    head = nn.Linear(model.feature_dim, 10)
    opt = torch.optim.SGD(list(model.parameters()) + list(head.parameters()), lr=0.01)
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))
    x, y = x[order].contiguous(), y[order].contiguous()
    n = x.shape[0] // a.batch * a.batch

    def step(k):
        i = (k * a.batch) % n
        opt.zero_grad()
        loss = F.cross_entropy(head(model(x[i:i + a.batch])), y[i:i + a.batch])
        loss.backward()
        opt.step()

    model.train()
    for k in range(a.warmup):
        step(k)
    t0 = time.perf_counter()
    for k in range(a.steps):
        step(a.warmup + k)
    secs = time.perf_counter() - t0
    print(json.dumps({"samples_per_s": a.steps * a.batch / secs, "seconds": secs}))


if __name__ == "__main__":
    main()
