"""PyTorch peer of genlab's DDPM (bench/quality/ddpm.ts and the DDPM rows of bench/RESULTS.md).

The same model and settings as genlab's defaults: T = 300, linear betas 1e-4 .. 0.02, the simple eps-MSE loss with
t uniform on 0..T-1, Adam (eps 1e-8), batch 128; the noise predictor is
  - 'mlp':  concat(x_t, emb(t)) -> 128 -> 128 -> 128 (SiLU) -> D, emb = 64 sinusoidal features of the integer t
  - 'unet': genlab's small U-Net (lib/diffusion/networks.ts: channels 16-32-64, residual blocks conv-GroupNorm-SiLU
            + time projection, 1x1 skips, stride-2 conv down padded as TensorFlow's 'same' (0 before, 1 after), nearest
            up, skip concatenations; with classes K a learned label embedding of K + 1 rows, row K the null label, added
            to the time MLP's output); torch.nn's default initialisers, which genlab's networks follow
Ancestral sampling with the posterior variance betaTilde (Ho et al. Algorithm 2, diffusers 'fixed_small'); DDIM
(eta 0, genlab's strided steps and clipping of the predicted x0) and classifier-free guidance for the class-conditional
twins (pretrained.py, latent-ddpm.py).

Modes:
  quality <data.f32> <meta.json> <out.f32>   train on the points, write n samples (meta: n, d, epochs, lr, seed, samples)
  epoch <mlp|unet> <data.f32> <n> <threads>  time epochs on the n digits in data.f32 ([n, 784] in [-1, 1]); prints JSON
  ring-data <dir> <seeds> <epochs> <lr> <average> <octaves> <samples>
                                             genlab's default DDPM for 2-D data (bench/quality/defaults.ts drives it) on
                                             genlab's ring points <dir>/ring<seed>.f32 [n, 2]: the MLP fed x and sin/cos
                                             of 2^k pi x / s, k < octaves (s = the data's std over all coordinates),
                                             with <average> = beta > 0 the weight average of lib/train/average.ts
                                             (w_avg <- d_t w_avg + (1 - d_t) w, d_t = min(beta, (1 + t) / (10 + t))),
                                             sampled from it; <samples> points (seed 1000 + seed) go to
                                             <dir>/torch-ring<seed>.f32 for defaults.ts to score with lib/metrics.
                                             -> JSON {"torch", "runs": [{seed, seconds, cpu}]}
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gan import GeneratorAverage  # the weight average (lib/train/average.ts), shared with the GAN's twin

T = 300


def schedule(start=1e-4, end=0.02, steps=None):
    """Linear betas from start to end over `steps` (default T, the course's), their alphas and cumulative products."""
    betas = torch.linspace(start, end, T if steps is None else steps, dtype=torch.float64)
    alphas = 1 - betas
    abar = torch.cumprod(alphas, 0)
    return betas, alphas, abar


def ancestral_step(x, eps, t, betas, alphas, abar):
    """x_{t-1} from x_t and the predicted noise (Ho et al. Algorithm 2); no noise at t = 0."""
    a, ab = alphas[t].item(), abar[t].item()
    ab_prev = abar[t - 1].item() if t > 0 else 1.0
    mean = (x - betas[t].item() / math.sqrt(1 - ab) * eps) / math.sqrt(a)
    var = (1 - ab_prev) / (1 - ab) * betas[t].item()
    return mean + math.sqrt(var) * torch.randn_like(x) if t > 0 else mean


def ancestral_step_clipped(x, eps, t, betas, alphas, abar):
    """x_{t-1} from x_t as genlab's ancestral sampler with clip (ancestralMean): x0 = (x_t - sqrt(1 - abar_t) eps) /
    sqrt(abar_t) clipped to [-1, 1], then the posterior mean of q(x_{t-1} | x_t, x0) plus sqrt(betaTilde_t) z; at t = 0
    the clipped x0 itself."""
    a, ab, beta = alphas[t].item(), abar[t].item(), betas[t].item()
    x0 = ((x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)).clamp(-1, 1)
    if t == 0:
        return x0
    ab_prev = abar[t - 1].item()
    mean = (math.sqrt(ab_prev) * beta / (1 - ab)) * x0 + (math.sqrt(a) * (1 - ab_prev) / (1 - ab)) * x
    return mean + math.sqrt((1 - ab_prev) / (1 - ab) * beta) * torch.randn_like(x)


def strided_timesteps(T, steps):
    """genlab's DDIM steps (NoiseSchedule.stridedTimesteps): `steps` evenly spaced from T-1 down to 0 (JS rounding)."""
    if steps == 1:
        return [T - 1]
    return [int(math.floor((T - 1) * (steps - 1 - i) / (steps - 1) + 0.5)) for i in range(steps)]


def ddim_step(x, eps, t, prev, abar, clip=True):
    """x_prev from x_t by DDIM with eta 0 (Song et al. eq. 12; prev = -1 ends at x_0), as genlab's ddimMean: the
    predicted x0 clipped to [-1, 1] and eps re-derived from it when `clip` (diffusers' clip_sample)."""
    a = abar[t].item()
    a_prev = abar[prev].item() if prev >= 0 else 1.0
    x0 = (x - math.sqrt(1 - a) * eps) / math.sqrt(a)
    if clip:
        x0 = x0.clamp(-1, 1)
        eps = (x - math.sqrt(a) * x0) / math.sqrt(1 - a)
    return math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps


def guided_eps(net, x, t, labels, w, classes):
    """genlab's guidedNoise: eps(x, t, null) without labels, eps(x, t, y) at w = 0, else (1 + w) eps_cond - w eps_uncond
    with both halves from one call on the doubled batch."""
    null = torch.full((x.shape[0],), classes, dtype=torch.long)
    if labels is None:
        return net(x, t, null)
    if w == 0:
        return net(x, t, labels)
    cond, uncond = net(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null])).chunk(2)
    return (1 + w) * cond - w * uncond


def sinusoidal(t, dim):
    """genlab's sinusoidalEmbedding (computed in float64 as there, then float32)."""
    half = dim // 2
    w = torch.pow(10000.0, -torch.arange(half, dtype=torch.float64) / max(1, half - 1))
    a = t.double()[:, None] * w[None, :]
    return torch.cat([torch.sin(a), torch.cos(a)], 1).float()


class MLP(nn.Module):
    def __init__(self, d, hidden=(128, 128, 128), emb=64, octaves=0, scale=1.0):
        super().__init__()
        self.emb = emb
        # genlab's input features: column d * octaves + k holds 2^k pi / scale in row d
        freq = torch.zeros(d, d * octaves)
        for i in range(d):
            for k in range(octaves):
                freq[i, i * octaves + k] = 2 ** k * math.pi / scale
        self.register_buffer('freq', freq)
        widths = [d * (1 + 2 * octaves) + emb, *hidden, d]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x, t):
        phase = x @ self.freq
        h = torch.cat([x, torch.sin(phase), torch.cos(phase), sinusoidal(t, self.emb)], 1)
        for i, l in enumerate(self.layers):
            h = l(h)
            if i + 1 < len(self.layers):
                h = F.silu(h)
        return h


def groups(c, g=8):
    """genlab's GroupNorm groups: the largest divisor of c not above g."""
    g = min(g, c)
    while c % g:
        g -= 1
    return g


class Res(nn.Module):
    def __init__(self, cin, cout, emb, g=8):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.g1 = nn.GroupNorm(groups(cout, g), cout)
        self.t = nn.Linear(emb, cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.g2 = nn.GroupNorm(groups(cout, g), cout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = F.silu(self.g1(self.c1(x)))
        h = h + self.t(F.silu(temb))[:, :, None, None]
        h = F.silu(self.g2(self.c2(h)))
        return h + self.skip(x)


class Down(nn.Conv2d):
    """A 3x3 stride-2 convolution padded as TensorFlow's 'same' on an even size: 0 rows/columns before, 1 after
    (PyTorch's padding=1 would pad 1 on both sides and shift the grid by half a pixel)."""

    def __init__(self, c):
        super().__init__(c, c, 3, stride=2, padding=0)

    def forward(self, x):
        return super().forward(F.pad(x, (0, 1, 0, 1)))


class UNet(nn.Module):
    """genlab's U-Net; with classes K > 0 class-conditional (forward's y in 0..K, K the null label, default null)."""

    def __init__(self, c=(16, 32, 64), emb=64, cin=1, g=8, classes=0):
        super().__init__()
        c1, c2, c3 = c
        self.emb, self.classes = emb, classes
        self.t1, self.t2 = nn.Linear(emb, emb), nn.Linear(emb, emb)
        self.inc = nn.Conv2d(cin, c1, 3, padding=1)
        self.d1 = Res(c1, c1, emb, g)
        self.p1 = Down(c1)
        self.d2 = Res(c1, c2, emb, g)
        self.p2 = Down(c2)
        self.m1, self.m2 = Res(c2, c3, emb, g), Res(c3, c3, emb, g)
        self.u2 = Res(c3 + c2, c2, emb, g)
        self.u1 = Res(c2 + c1, c1, emb, g)
        self.og = nn.GroupNorm(groups(c1, g), c1)
        self.out = nn.Conv2d(c1, cin, 3, padding=1)
        self.label = nn.Embedding(classes + 1, emb) if classes > 0 else None  # N(0, 1) init, as genlab's

    def forward(self, x, t, y=None):
        temb = self.t2(F.silu(self.t1(sinusoidal(t, self.emb))))
        if self.label is not None:
            temb = temb + self.label(torch.full_like(t, self.classes) if y is None else y)
        s1 = self.d1(self.inc(x), temb)
        s2 = self.d2(self.p1(s1), temb)
        m = self.m2(self.m1(self.p2(s2), temb), temb)
        u2 = self.u2(torch.cat([F.interpolate(m, scale_factor=2, mode='nearest'), s2], 1), temb)
        u1 = self.u1(torch.cat([F.interpolate(u2, scale_factor=2, mode='nearest'), s1], 1), temb)
        return self.out(F.silu(self.og(u1)))


def train_epoch(net, opt, x, abar, batch=128, after_step=None):
    perm = torch.randperm(x.shape[0])
    total = 0.0
    for s in range(0, x.shape[0], batch):
        xb = x[perm[s:s + batch]]
        t = torch.randint(0, T, (xb.shape[0],))
        eps = torch.randn_like(xb)
        a = abar[t].float().view(-1, *([1] * (xb.dim() - 1)))
        xt = a.sqrt() * xb + (1 - a).sqrt() * eps
        loss = F.mse_loss(net(xt, t), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if after_step:
            after_step()
        total += loss.item() * xb.shape[0]
    return total / x.shape[0]


def recipe_schedule(s):
    """The linear schedule of a recipe's settings (s['ddpm']: timesteps, betaSchedule)."""
    b = s['ddpm']['betaSchedule']
    assert b['kind'] == 'linear', f"the twins know linear betas only; got {b['kind']}"
    return schedule(b['start'], b['end'], s['ddpm']['timesteps'])


def fit_conditional(net, x, labels, s):
    """genlab's DDPM.fit of a class-conditional model over a recipe's phases (s['fit']: batchSize, phases of epochs
    and learningRate; s['ddpm']: timesteps, classes, labelDropout): per batch of a fresh permutation t ~ U{0..T-1},
    eps ~ N(0, I), each row's label replaced by the null label K with probability labelDropout, the simple loss (mean
    over elements); Adam (eps 1e-8), a fresh optimiser per phase (genlab's fit makes one when the step size changes).
    With s['ddpm']['weightAverage'] > 0 a moving average of the weights follows every step (genlab's
    lib/train/average.ts, as GeneratorAverage); it is returned as the third value (None without).
    x: [n, ...] in the working range, labels: [n] int64. Returns (steps, the last epoch's mean loss, the average)."""
    p = s['ddpm']
    avg = GeneratorAverage(net, p['weightAverage']) if p.get('weightAverage', 0) > 0 else None
    _, _, abar = recipe_schedule(s)
    T, K, drop, batch = p['timesteps'], p['classes'], p['labelDropout'], s['fit']['batchSize']
    n = x.shape[0]
    steps, loss = 0, float('nan')
    for phase in s['fit']['phases']:
        opt = torch.optim.Adam(net.parameters(), lr=phase['learningRate'], eps=1e-8)
        for _ in range(phase['epochs']):
            perm = torch.randperm(n)
            total = 0.0
            for i in range(0, n, batch):
                rows = perm[i:i + batch]
                xb, yb = x[rows], labels[rows].clone()
                yb[torch.rand(len(rows)) < drop] = K  # label dropout: the null label
                t = torch.randint(0, T, (len(rows),))
                eps = torch.randn_like(xb)
                a = abar[t].float().view(-1, *([1] * (xb.dim() - 1)))
                loss_b = F.mse_loss(net(a.sqrt() * xb + (1 - a).sqrt() * eps, t, yb), eps)
                opt.zero_grad()
                loss_b.backward()
                opt.step()
                if avg:
                    avg.update()
                total += loss_b.item() * len(rows)
                steps += 1
            loss = total / n
    return steps, loss, avg


def ring_data(folder, seeds, epochs, lr, average, octaves, samples):
    runs = []
    _, _, abar = schedule()
    for seed in seeds:
        torch.manual_seed(seed)
        x = torch.from_numpy(np.fromfile(f"{folder}/ring{seed}.f32", dtype="<f4").reshape(-1, 2).copy())
        net = MLP(2, octaves=octaves, scale=float(((x - x.mean()) ** 2).mean().sqrt()))
        opt = torch.optim.Adam(net.parameters(), lr=lr, eps=1e-8)
        avg = GeneratorAverage(net, average) if average > 0 else None  # gan.py's: lib/train/average.ts
        t0, c0 = time.time(), time.process_time()
        for _ in range(epochs):
            train_epoch(net, opt, x, abar, 128, avg.update if avg else None)
        seconds, cpu = time.time() - t0, time.process_time() - c0
        torch.manual_seed(1000 + seed)
        sample(avg.avg if avg else net, samples, 2).numpy().astype("<f4").tofile(f"{folder}/torch-ring{seed}.f32")
        runs.append({"seed": seed, "seconds": seconds, "cpu": cpu})
    return runs


@torch.no_grad()
def sample(net, n, d):
    betas, alphas, abar = schedule()
    x = torch.randn(n, d)
    for t in range(T - 1, -1, -1):
        eps = net(x, torch.full((n,), t, dtype=torch.long))
        x = ancestral_step(x, eps, t, betas, alphas, abar)
    return x


def quality(data_file, meta_file, out_file):
    meta = json.load(open(meta_file))
    torch.manual_seed(meta['seed'])
    torch.set_num_threads(meta.get('threads', 1))
    x = torch.from_numpy(np.fromfile(data_file, dtype=np.float32).reshape(meta['n'], meta['d']))
    net = MLP(meta['d'])
    opt = torch.optim.Adam(net.parameters(), lr=meta['lr'], eps=1e-8)
    _, _, abar = schedule()
    t0 = time.time()
    losses = [train_epoch(net, opt, x, abar) for _ in range(meta['epochs'])]
    secs = time.time() - t0
    s = sample(net, meta['samples'], meta['d'])
    s.numpy().astype(np.float32).tofile(out_file)
    print(json.dumps({'torch': torch.__version__, 'seconds': secs, 'loss': losses[-1]}))


def epoch(kind, data_file, n, threads):
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    x = torch.from_numpy(np.fromfile(data_file, dtype=np.float32).reshape(n, 784))
    if kind == 'mlp':
        net = MLP(784)
        lr = 1e-3
    else:
        x = x.view(n, 1, 28, 28)
        net = UNet()
        lr = 2e-4
    opt = torch.optim.Adam(net.parameters(), lr=lr, eps=1e-8)
    _, _, abar = schedule()
    times = []
    for _ in range(2):
        t0 = time.time()
        train_epoch(net, opt, x, abar)
        times.append(time.time() - t0)
    print(json.dumps({'torch': torch.__version__, 'kind': kind, 'n': n, 'threads': threads, 'seconds': times,
                      'params': sum(p.numel() for p in net.parameters())}))


if __name__ == '__main__':
    if sys.argv[1] == 'quality':
        quality(*sys.argv[2:5])
    elif sys.argv[1] == 'ring-data':
        torch.set_num_threads(1)
        a = sys.argv[2:]
        print(json.dumps({'torch': torch.__version__, 'runs': ring_data(a[0], [int(v) for v in a[1].split(',')], int(a[2]), float(a[3]),
                                                                      float(a[4]), int(a[5]), int(a[6]))}))
    else:
        epoch(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
