#!/usr/bin/env python3
"""PyTorch twins of genlab's pretrained-model recipes (bench/quality/pretrained.ts drives them; the recipes are
lib/pretrained/recipes/<name>.ts). Same networks, data, steps and sampling; genlab's digit judge then scores the
twin's samples, which come back through a file.

- vae-digits: the conv VAE of lib/nets/factories.ts (convEncoder / convDecoder): Conv2d(1, F1, 3, s2) -> ReLU ->
  Conv2d(F1, F2, 3, s2) -> ReLU -> Flatten -> Linear(7*7*F2, U) -> ReLU -> Linear(U, L) mean, Linear(U, L) log-variance;
  decoder Linear(L, 7*7*F2) -> ReLU -> ConvTranspose(F2, F2, 3, s2) -> ReLU -> ConvTranspose(F2, F1, 3, s2) -> ReLU
  -> ConvTranspose(F1, 1, 3, s1) logits. Glorot-uniform weights, zero biases. Loss per digit: Bernoulli cross-entropy
  summed over the 784 grey levels + closed-form KL, one reparameterised z, batch mean; Adam (eps 1e-8), a fresh
  optimiser per phase of the recipe (genlab's fit does the same when the step size changes). Samples: decoder means
  of z ~ N(0, I). 'same' padding: TensorFlow pads a stride-2 3x3 convolution of an even size by 0 before and 1 after;
  PyTorch's padding=1 pads 1 on both sides (the twin's feature maps are shifted by half a pixel, nothing else).
- gan-digits: gan.py's conv_g / conv_d (the DCGAN of lib/gan/gan.ts), its train_epoch (D then G per batch,
  non-saturating loss) and GeneratorAverage (genlab's generatorAverage); digits scaled to [-1, 1], samples from the
  averaged G in eval mode, mapped back to [0, 1].
- ddpm-digits: ddpm.py's UNet (genlab's residual U-Net, layer for layer, torch.nn's initialisers as genlab's) with
  the class embedding (K + 1 rows, N(0, 1), row K the null label, added to the time MLP's output), trained by
  ddpm.py's fit_conditional (label dropout, the simple loss, Adam per phase) on the digits mapped onto [-1, 1]; the
  parameter count is checked against genlab's before training. Samples by DDIM (eta 0, genlab's strided steps,
  predicted x0 clipped to [-1, 1]) mapped back to [0, 1]: evaluation.samples unconditional (the null label), and per
  guidance weight w perClass of each digit 0..9 in order with eps = (1 + w) eps_cond - w eps_uncond (the same noise
  for every w, as digitGuidanceTable's one seed).
- ebm-digits: the convolutional energy network of lib/ebm/networks.ts (convEnergyNetwork): Conv2d(1, f1, 5, s2) ->
  SiLU -> Conv2d(., f, 3, s2) -> SiLU per further filter count, each padded as TensorFlow's 'same' (28 -> 14 -> 7 ->
  4 -> 2; the padding a layer needs, rows/columns before = half of it rounded down, the rest after) -> flatten in
  TensorFlow's [h, w, c] order -> Linear(., U) -> SiLU -> Linear(U, 1) = E(x); torch.nn's default initialisers, which
  are genlab's 'pytorch' init (U(+-1/sqrt(fan_in)) kernels and biases). Before training the twin loads genlab's
  initial weights (<dir>/init.f32) and checks that its energies and grad_x E on probe digits (<dir>/probe.f32) match
  genlab's (<dir>/probe-energy.f32, <dir>/probe-grad.f32) within float tolerance, and checks the parameter count;
  then it trains from its own seeded initialisation. Training as EnergyModel.fit with the recipe's settings: per
  batch of shuffled data, as many chains from uniform noise over the data's range (freshFraction 1: no replay
  buffer), K Langevin steps x <- clip(x - step clip(grad_x E, +-c) + noise z, lo, hi), then an Adam step (eps
  1e-8, a fresh optimiser per phase, as genlab's fit when the step size changes) on mean E(x+) - mean E(x-) +
  alpha (mean E(x+)^2 + mean E(x-)^2). Samples: evaluation.samples chains from uniform noise, EnergyModel.sample's
  image settings (60 steps, step 10, gradient clip 0.03, noise 0.005: the recipe's training chains).

Usage: pretrained.py <vae-digits|gan-digits|ddpm-digits|ebm-digits> <dir> [<genlab's parameter count>]
  <dir>/settings.json: the recipe's settings (lib/pretrained/recipes/<name>.ts, settings(quick)), <dir>/train.f32 and
  <dir>/held.f32: genlab's loadMnist split, raw little-endian float32 [n, 784] in [0, 1]; <dir>/labels.i32: the
  training digits' labels, int32 [n]. ebm-digits also reads the parity check's files (above).
  Writes <dir>/samples.f32 ([evaluation.samples, 784] in [0, 1]; ddpm-digits also <dir>/guided-<w>.f32 [10 perClass,
  784]) and prints JSON {torch, seconds, steps, ...}.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ddpm import UNet, ancestral_step_clipped, ddim_step, fit_conditional, guided_eps, recipe_schedule, strided_timesteps
from gan import GeneratorAverage, Reshape, conv_d, conv_g, glorot, train_epoch

torch.set_num_threads(1)


class ConvVAE(nn.Module):
    def __init__(self, filters, dense, latent):
        super().__init__()
        f1, f2 = filters
        self.encoder = nn.Sequential(
            nn.Conv2d(1, f1, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(f1, f2, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(7 * 7 * f2, dense), nn.ReLU())
        self.mean, self.log_var = nn.Linear(dense, latent), nn.Linear(dense, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, 7 * 7 * f2), nn.ReLU(), Reshape(f2, 7, 7),
            nn.ConvTranspose2d(f2, f2, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(f2, f1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(f1, 1, 3, stride=1, padding=1))

    def encode(self, x):
        h = self.encoder(x.reshape(-1, 1, 28, 28))
        return self.mean(h), self.log_var(h)

    def neg_elbo(self, x):
        """Per digit: -log p(x|z) (cross-entropy, one z) and KL(q(z|x) || N(0, I)), each [b]."""
        m, lv = self.encode(x)
        z = m + torch.exp(0.5 * lv) * torch.randn_like(m)
        logits = self.decoder(z).reshape(x.shape[0], -1)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = 0.5 * (torch.exp(lv) + m * m - 1 - lv).sum(1)
        return rec, kl


def vae_digits(s, x, held):
    net = s["network"]
    torch.manual_seed(s["seed"])
    model = ConvVAE(net["convFilters"], net["convDenseUnits"], net["latentDim"])
    model.apply(glorot)
    b, steps, t0 = s["fit"]["batchSize"], 0, time.time()
    for phase in s["fit"]["phases"]:
        opt = torch.optim.Adam(model.parameters(), lr=phase["learningRate"], eps=1e-8)
        for _ in range(phase["epochs"]):
            perm = torch.randperm(x.shape[0])
            for i in range(0, x.shape[0], b):
                rec, kl = model.neg_elbo(x[perm[i:i + b]])
                loss = (rec + kl).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                steps += 1
    seconds = time.time() - t0
    e = s["evaluation"]
    with torch.no_grad():
        torch.manual_seed(e["seed"])
        elbo = -float(np.mean([sum(model.neg_elbo(held)).mean().item() for _ in range(e["elboSamples"])]))
        m, _ = model.encode(held)
        rec = F.binary_cross_entropy_with_logits(model.decoder(m).reshape(held.shape[0], -1), held, reduction="none").sum(1).mean().item()
        z = torch.randn(e["samples"], net["latentDim"], generator=torch.Generator().manual_seed(e["sampleSeed"]))
        samples = torch.sigmoid(model.decoder(z)).reshape(e["samples"], 784).numpy()
    return samples, {"seconds": seconds, "steps": steps, "heldOutElbo": elbo, "heldOutReconstruction": rec}


def gan_digits(s, x, held):
    net = s["network"]
    torch.manual_seed(s["seed"])
    G = conv_g(net["latentDim"], *net["generatorUnits"])
    D = conv_d(*net["discriminatorUnits"], dropout=net["dropout"])
    G.apply(glorot)
    D.apply(glorot)
    avg = GeneratorAverage(G, net["generatorAverage"]) if net["generatorAverage"] > 0 else None
    x = (x * 2 - 1).reshape(-1, 1, 28, 28)  # dataRange [0, 1] onto tanh's [-1, 1]
    b, t0 = s["fit"]["batchSize"], time.time()
    for phase in s["fit"]["phases"]:
        optG = torch.optim.Adam(G.parameters(), lr=phase["learningRate"], betas=(0.5, 0.999), eps=1e-8)
        optD = torch.optim.Adam(D.parameters(), lr=phase["learningRate"], betas=(0.5, 0.999), eps=1e-8)
        for _ in range(phase["epochs"]):
            G.train()
            D.train()
            train_epoch(G, D, optG, optD, x, b, net["latentDim"], net["labelSmoothing"], avg.update if avg else None)
    seconds = time.time() - t0
    steps = sum(p["epochs"] for p in s["fit"]["phases"]) * -(-x.shape[0] // b)
    e = s["evaluation"]
    sampler = avg.avg if avg else G
    sampler.eval()
    with torch.no_grad():
        z = torch.randn(e["samples"], net["latentDim"], generator=torch.Generator().manual_seed(e["sampleSeed"]))
        samples = ((sampler(z) + 1) / 2).clamp(0, 1).reshape(e["samples"], 784).numpy()
    return samples, {"seconds": seconds, "steps": steps}


@torch.no_grad()
def ddim_sample(net, s, n, seed, labels=None, w=0.0, batch=256):
    """genlab's DDPM.sample(n, { sampler: 'ddim', steps: evaluation.ddimSteps, seed[, labels, guidance] }) with eta 0
    and clipping, in blocks of `batch` rows: [n, 784] in [0, 1]."""
    _, _, abar = recipe_schedule(s)
    times = strided_timesteps(s["ddpm"]["timesteps"], s["evaluation"]["ddimSteps"])
    x = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    for i, t in enumerate(times):
        prev = times[i + 1] if i + 1 < len(times) else -1
        tt = torch.full((n,), t, dtype=torch.long)
        eps = torch.cat([guided_eps(net, x[j:j + batch], tt[j:j + batch], None if labels is None else labels[j:j + batch], w, net.classes)
                         for j in range(0, n, batch)])
        x = ddim_step(x, eps, t, prev, abar)
    return ((x + 1) / 2).clamp(0, 1).reshape(n, 784).numpy()


@torch.no_grad()
def ancestral_sample(net, s, n, seed, batch=256):
    """genlab's DDPM.sample(n, { seed }): the ancestral chain over all T steps with clipping, unconditional (the null
    label), in blocks of `batch` rows: [n, 784] in [0, 1]."""
    betas, alphas, abar = recipe_schedule(s)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=g)
    for t in range(s["ddpm"]["timesteps"] - 1, -1, -1):
        tt = torch.full((n,), t, dtype=torch.long)
        eps = torch.cat([guided_eps(net, x[j:j + batch], tt[j:j + batch], None, 0.0, net.classes) for j in range(0, n, batch)])
        x = ancestral_step_clipped(x, eps, t, betas, alphas, abar)
    return ((x + 1) / 2).clamp(0, 1).reshape(n, 784).numpy()


def ddpm_digits(s, x, labels, folder, genlab_parameters=None):
    p, e = s["ddpm"], s["evaluation"]
    net_o = p["network"]
    assert p["dataShape"] == [28, 28, 1] and p["dataRange"] == [0, 1] and net_o["kind"] == "unet", "the twin is for [28, 28, 1] digits in [0, 1]"
    torch.manual_seed(s["seed"])
    net = UNet(tuple(net_o["channels"]), net_o["embedDim"], 1, net_o["groups"], p["classes"])
    parameters = sum(q.numel() for q in net.parameters())
    print(f"ddpm-digits twin: {parameters} parameters (genlab: {genlab_parameters})", file=sys.stderr)
    if genlab_parameters is not None:
        assert parameters == genlab_parameters, f"the twin's U-Net has {parameters} parameters, genlab's {genlab_parameters}"
    t0 = time.time()
    steps, loss, avg = fit_conditional(net, (x * 2 - 1).reshape(-1, 1, 28, 28), labels, s)  # [0, 1] onto [-1, 1]
    seconds = time.time() - t0
    net = avg.avg if avg else net  # genlab samples with the average when the recipe keeps one
    net.eval()
    # the unconditional figures by the recipe's sampler (ancestral, or DDIM in older recipes); guidance by DDIM
    sampler = ancestral_sample if e.get("sampler") == "ancestral" else ddim_sample
    samples = sampler(net, s, e["samples"], e["sampleSeed"])
    asked = torch.arange(10).repeat_interleave(e["perClass"])
    for w in e["guidance"]:
        ddim_sample(net, s, len(asked), e["guidanceSeed"], asked, float(w)).astype("<f4").tofile(f"{folder}/guided-{w}.f32")
    return samples, {"seconds": seconds, "steps": steps, "loss": loss, "parameters": parameters}


class ConvEnergy(nn.Module):
    """genlab's convEnergyNetwork (lib/ebm/networks.ts) on [n, 1, 28, 28]: E(x) [n]."""

    def __init__(self, shape, filters, dense):
        super().__init__()
        h, w, c = shape
        self.convs, self.pads = nn.ModuleList(), []
        for i, f in enumerate(filters):
            k = 5 if i == 0 else 3
            self.convs.append(nn.Conv2d(c, f, k, stride=2))
            ho, wo = -(-h // 2), -(-w // 2)  # 'same': ceil(size / stride)
            ph, pw = max((ho - 1) * 2 + k - h, 0), max((wo - 1) * 2 + k - w, 0)
            self.pads.append((pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))  # TensorFlow: the odd one after
            h, w, c = ho, wo, f
        self.dense = nn.Linear(h * w * c, dense)
        self.out = nn.Linear(dense, 1)

    def forward(self, x):
        for conv, pad in zip(self.convs, self.pads):
            x = F.silu(conv(F.pad(x, pad)))
        x = x.permute(0, 2, 3, 1).flatten(1)  # TensorFlow's flatten order [h, w, c]
        return self.out(F.silu(self.dense(x))).squeeze(1)

    def load_genlab(self, flat):
        """genlab's weights in network.getWeights() order (conv kernels [k, k, in, out], dense kernels [in, out], biases)."""
        at = 0
        with torch.no_grad():
            for layer in [*self.convs, self.dense, self.out]:
                for q, kind in ((layer.weight, "kernel"), (layer.bias, "bias")):
                    if kind == "bias":
                        shape, perm = q.shape, None
                    elif q.dim() == 4:
                        shape, perm = (q.shape[2], q.shape[3], q.shape[1], q.shape[0]), (3, 2, 0, 1)
                    else:
                        shape, perm = (q.shape[1], q.shape[0]), (1, 0)
                    t = flat[at:at + q.numel()].reshape(shape)
                    q.copy_(t if perm is None else t.permute(*perm))
                    at += q.numel()
        assert at == flat.numel(), f"genlab's initial weights hold {flat.numel()} numbers, the twin's network {at}"


def energy_grad(net, x):
    """grad_x of sum E: each chain's own gradient (the chains are independent)."""
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(net(x).sum(), x)
    return g


def langevin(net, x, lg, lo, hi, gen):
    """K steps of x <- clip(x - stepSize clip(grad E, +-gradientClip) + noise z, lo, hi), as EnergyModel's langevinStep."""
    for _ in range(lg["steps"]):
        g = energy_grad(net, x).clamp(-lg["gradientClip"], lg["gradientClip"])
        x = (x - lg["stepSize"] * g + lg["noise"] * torch.randn(x.shape, generator=gen)).clamp(lo, hi)
    return x.detach()


def ebm_parity(net, folder):
    """genlab's initial weights in the twin's network: the largest energy and grad_x E differences on the probe digits."""
    probe = torch.from_numpy(np.fromfile(f"{folder}/probe.f32", dtype="<f4").reshape(-1, 1, 28, 28).copy())
    energy = torch.from_numpy(np.fromfile(f"{folder}/probe-energy.f32", dtype="<f4").copy())
    grad = torch.from_numpy(np.fromfile(f"{folder}/probe-grad.f32", dtype="<f4").reshape(-1, 784).copy())
    net.load_genlab(torch.from_numpy(np.fromfile(f"{folder}/init.f32", dtype="<f4").copy()))
    e = net(probe).detach()
    g = energy_grad(net, probe).reshape(-1, 784)
    de, dg = (e - energy).abs().max().item(), (g - grad).abs().max().item()
    scale_e, scale_g = energy.abs().max().item(), grad.abs().max().item()
    print(f"ebm-digits twin: genlab's initial weights: energies differ by <= {de:.2e} (|E| <= {scale_e:.3f}), "
          f"grad_x E by <= {dg:.2e} (|grad| <= {scale_g:.2e})", file=sys.stderr)
    assert de <= 1e-4 * max(1.0, scale_e) and dg <= 1e-4 * max(scale_g, 1e-6) + 1e-7, \
        f"the twin's network is not genlab's: energies differ by {de}, gradients by {dg}"
    return {"energyDiff": de, "gradDiff": dg, "probes": probe.shape[0]}


def ebm_epoch(net, opt, x, b, lg, alpha, lo, hi, gen):
    """One epoch of EnergyModel.fit with fresh chains: per batch of shuffled data, as many chains from uniform noise
    on [lo, hi], K Langevin steps (`lg`), then an Adam step on mean E(x+) - mean E(x-) + alpha (mean E(x+)^2 +
    mean E(x-)^2). Returns the steps' losses."""
    losses = []
    perm = torch.randperm(x.shape[0], generator=gen)
    for i in range(0, x.shape[0], b):
        pos = x[perm[i:i + b]]
        neg = langevin(net, lo + (hi - lo) * torch.rand(pos.shape, generator=gen), lg, lo, hi, gen)
        en = net(torch.cat([pos, neg]))
        ep, eg = en[:pos.shape[0]], en[pos.shape[0]:]
        loss = ep.mean() - eg.mean() + alpha * (ep.pow(2).mean() + eg.pow(2).mean())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# EnergyModel.sample's settings for images (DEFAULTS.conv of lib/ebm/energy-model.ts: sampleSteps, stepSize, noise,
# gradientClip), which the recipe's evaluation uses: sample(n, { seed }) from uniform noise.
IMAGE_SAMPLING = {"steps": 60, "stepSize": 10, "noise": 0.005, "gradientClip": 0.03}


def ebm_digits(s, x, folder, genlab_parameters=None):
    net_o, fit, e = s["network"], s["fit"], s["evaluation"]
    assert net_o["dataShape"] == [28, 28, 1], "the twin is for [28, 28, 1] digits"
    assert fit["freshFraction"] == 1, "the twin runs chains from noise only (freshFraction 1: no replay buffer)"
    torch.manual_seed(s["seed"])
    gen = torch.Generator().manual_seed(s["seed"])  # chains' starts and noise, shuffling
    net = ConvEnergy(net_o["dataShape"], net_o["convFilters"], net_o["convDenseUnits"])
    parameters = sum(q.numel() for q in net.parameters())
    print(f"ebm-digits twin: {parameters} parameters (genlab: {genlab_parameters})", file=sys.stderr)
    if genlab_parameters is not None:
        assert parameters == genlab_parameters, f"the twin's network has {parameters} parameters, genlab's {genlab_parameters}"
    parity = ebm_parity(ConvEnergy(net_o["dataShape"], net_o["convFilters"], net_o["convDenseUnits"]), folder)
    x = x.reshape(-1, 1, 28, 28)
    lo, hi = float(x.min()), float(x.max())  # genlab's observedRange: the box of the noise and of the chains
    lg, alpha, b = fit["langevin"], fit["alpha"], fit["batchSize"]
    steps, t0, losses = 0, time.time(), []
    for phase in fit["phases"]:
        opt = torch.optim.Adam(net.parameters(), lr=phase["learningRate"], eps=1e-8)
        for _ in range(phase["epochs"]):
            epoch_losses = ebm_epoch(net, opt, x, b, lg, alpha, lo, hi, gen)
            steps += len(epoch_losses)
            losses += epoch_losses
            print(f"ebm-digits twin: epoch {len(losses) // -(-x.shape[0] // b)}, step {steps}, mean loss "
                  f"{np.mean(losses[-(-(-x.shape[0] // b)):]):.4f}, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    seconds = time.time() - t0
    sgen = torch.Generator().manual_seed(e["sampleSeed"])
    start = lo + (hi - lo) * torch.rand((e["samples"], 1, 28, 28), generator=sgen)
    samples = langevin(net, start, IMAGE_SAMPLING, lo, hi, sgen).reshape(e["samples"], 784).numpy()
    return samples, {"seconds": seconds, "steps": steps, "loss": float(np.mean(losses[-10:])), "parameters": parameters, "parity": parity}


if __name__ == "__main__":
    name, folder = sys.argv[1], sys.argv[2]
    settings = json.load(open(f"{folder}/settings.json"))
    load = lambda f: torch.from_numpy(np.fromfile(f"{folder}/{f}", dtype="<f4").reshape(-1, 784).copy())
    if name == "ddpm-digits":
        labels = torch.from_numpy(np.fromfile(f"{folder}/labels.i32", dtype="<i4").astype(np.int64))
        expected = int(sys.argv[3]) if len(sys.argv) > 3 else None
        samples, out = ddpm_digits(settings, load("train.f32"), labels, folder, expected)
    elif name == "ebm-digits":
        samples, out = ebm_digits(settings, load("train.f32"), folder, int(sys.argv[3]) if len(sys.argv) > 3 else None)
    else:
        run = {"vae-digits": vae_digits, "gan-digits": gan_digits}[name]
        samples, out = run(settings, load("train.f32"), load("held.f32"))
    samples.astype("<f4").tofile(f"{folder}/samples.f32")
    print(json.dumps({"torch": torch.__version__, **out}))
