#!/usr/bin/env python3
# Side-by-side on the same GPU: torch's softmax attention (SDPA) and the torch linear cosFormer form
# (the formula of sdk/include/iclr/cosformer.hpp) at the kernel test's shapes, fp32, median of 20.
import torch, math, json, torch.nn.functional as F
dev = "cuda"
def cosformer(q, k, v, eps=1e-6):
    L = q.shape[-2]
    a = (torch.arange(1, L + 1, device=q.device, dtype=q.dtype) * (math.pi / 2 / L)).unsqueeze(-1)
    qr, kr = q.relu(), k.relu()
    qx = torch.cat([qr * a.sin(), qr * a.cos()], -1); kx = torch.cat([kr * a.sin(), kr * a.cos()], -1)
    kv = kx.transpose(-2, -1) @ v
    z = (qx @ kx.sum(-2).unsqueeze(-1)).clamp_min(eps)
    return (qx @ kv) / z
def med(f, reps=20):
    for _ in range(3): f()
    ts = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); f(); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e))
    ts.sort(); return ts[reps // 2]
torch.manual_seed(0)
rows = []
n = 64
while n <= 65536:
    q, k, v = (torch.randn(1, 4, n, 64, device=dev) for _ in range(3))
    r = {"n": n, "torch_cosformer_ms": med(lambda: cosformer(q, k, v)),
         "torch_sdpa_softmax_ms": med(lambda: F.scaled_dot_product_attention(q, k, v))}
    print(json.dumps(r), flush=True); rows.append(r)
    n *= 4
for key in ("torch_cosformer_ms", "torch_sdpa_softmax_ms"):
    xs = [(math.log(r["n"]), math.log(r[key])) for r in rows if r["n"] >= 1024]
    mx = sum(x for x, _ in xs) / len(xs); my = sum(y for _, y in xs) / len(xs)
    k = sum((x - mx) * (y - my) for x, y in xs) / sum((x - mx) ** 2 for x, _ in xs)
    print(json.dumps({"exponent": round(k, 3), "of": key, "fit": "N >= 1024"}))
