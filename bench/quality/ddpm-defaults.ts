/**
 * Experiments behind DDPM's vector defaults (issue 27): one fit on the 8-Gaussian ring with the given options,
 * scored by modeCoverage (radius 0.06) and energyDistance. Options as JSON: `GENLAB_BACKEND=wasm node
 * dist/bench/quality/ddpm-defaults.js '{"seed":1,"n":8000,"model":{},"phases":[{"epochs":20}]}'`: `phases` are
 * successive fits (a fit at a new learningRate starts a fresh Adam: a step decay of the rate). Results: the DDPM
 * table of bench/quality/DEFAULTS.md.
 */
import { ready } from '../../lib/engine/backend';
import { DDPM } from '../../lib/diffusion/ddpm';
import { energyDistance, modeCoverage } from '../../lib/metrics/samples';
import { gaussianRing, gaussianRingModes } from '../../datasets';
import { runMain } from './common';

async function main(): Promise<void> {
  await ready();
  const cfg = JSON.parse(process.argv[2] ?? '{}') as { seed?: number; n?: number; model?: object; phases?: object[]; samples?: number };
  const seed = cfg.seed ?? 1;
  const x = gaussianRing({ n: cfg.n ?? 8000, seed });
  const model = new DDPM({ dataShape: [2], seed, ...(cfg.model ?? {}) });
  const t0 = Date.now();
  let epochs = 0;
  for (const phase of cfg.phases ?? [{}]) epochs += (await model.fit(x, { progress: false, ...phase })).loss.length;
  const fitS = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  const s = await model.sample(cfg.samples ?? 2000, { seed: 1000 + seed });
  const sampleS = (Date.now() - t1) / 1000;
  const pts = s.arraySync() as number[][];
  const data = x.arraySync() as number[][];
  const cov = modeCoverage(pts, gaussianRingModes());
  const ed = energyDistance(pts.slice(0, 1000), data.slice(0, 1000));
  console.log(JSON.stringify({ cfg, epochs, covered: cov.covered, near: +cov.fractionNear.toFixed(3), energy: +ed.toFixed(4), fitS, sampleS }));
  s.dispose(); x.dispose(); model.dispose();
}
runMain(main);
