import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isingConfigurations } from '../datasets/ising';
import {
  ISING_CRITICAL_TEMPERATURE,
  IsingModel,
  isingDensityOfStates,
  isingExact,
  isingTemperatureScan,
  isingThermodynamics,
  measureIsing,
  onsagerEnergy,
  onsagerSolution,
  onsagerMagnetization,
  onsagerSpecificHeat,
} from '../lib/mcmc/ising';
import { assertClose } from './helpers';

test('exact enumeration: 2x2 closed form, state count, Gray-code walk against brute force', () => {
  // 2x2 torus (each neighbour pair bonded twice): Z = 2 e^{8 beta J} + 2 e^{-8 beta J} + 12.
  for (const T of [1, 2.5]) {
    const b = 1 / T;
    const z = 2 * Math.exp(8 * b) + 2 * Math.exp(-8 * b) + 12;
    const ex = isingExact(2, T);
    assertClose(ex.logZ, Math.log(z), 1e-12, `logZ 2x2 T=${T}`);
    assertClose(ex.energy, (-(16 * Math.exp(8 * b) - 16 * Math.exp(-8 * b)) / z) / 4, 1e-12, `energy 2x2 T=${T}`);
  }
  for (const L of [2, 3, 4]) {
    const dos = isingDensityOfStates(L);
    assert.equal(
      dos.count.reduce((a, c) => a + c, 0),
      2 ** (L * L),
      `L=${L} counts sum to 2^N`,
    );
  }
  // 3x3 by brute force with the independent energy routine measureIsing.
  const L = 3;
  const N = 9;
  const T = 2.2;
  let z = 0;
  let e = 0;
  let am = 0;
  for (let k = 0; k < 2 ** N; k++) {
    const s = Array.from({ length: N }, (_, i) => ((k >> i) & 1 ? 1 : -1));
    const { energy, magnetization } = measureIsing(s, { L });
    const w = Math.exp((-N * energy[0]) / T);
    z += w;
    e += w * energy[0];
    am += w * Math.abs(magnetization[0]);
  }
  const ex = isingExact(L, T);
  assertClose(ex.energy, e / z, 1e-12, '3x3 energy');
  assertClose(ex.absMagnetization, am / z, 1e-12, '3x3 |m|');
  assertClose(ex.logZ, Math.log(z), 1e-10, '3x3 logZ');
  // Specific heat = d<e>/dT (finite difference), a check of the variance formula.
  const h = 1e-4;
  const dEdT = (isingExact(4, 2.3 + h).energy - isingExact(4, 2.3 - h).energy) / (2 * h);
  assertClose(isingExact(4, 2.3).specificHeat, dEdT, 1e-6, 'C = d<e>/dT');
});

/** Samples 4x4 and compares with exact enumeration within `k` autocorrelation-aware standard errors. */
function checkAgainstExact(algorithm: 'metropolis' | 'wolff', T: number, seed: number): void {
  const model = new IsingModel({ L: 4, seed });
  const run = model.sample({ temperature: T, sweeps: 30000, burnIn: 500, algorithm });
  assert.equal(run.energy.length, 30000);
  const th = isingThermodynamics(run);
  const ex = isingExact(4, T);
  const k = 4;
  for (const key of ['energy', 'absMagnetization'] as const) {
    const { value, stderr } = th[key];
    assert.ok(stderr > 0 && stderr < 0.01, `${algorithm} T=${T} ${key}: error bar ${stderr} is small`);
    assert.ok(
      Math.abs(value - ex[key]) < k * stderr,
      `${algorithm} T=${T} ${key}: ${value} +- ${stderr} vs exact ${ex[key]} (${((value - ex[key]) / stderr).toFixed(2)} sigma)`,
    );
  }
  for (const key of ['specificHeat', 'susceptibility'] as const) {
    const { value, stderr } = th[key];
    assert.ok(Math.abs(value - ex[key]) < k * stderr + 0.01 * ex[key], `${algorithm} T=${T} ${key}: ${value} +- ${stderr} vs exact ${ex[key]}`);
  }
}

for (const algorithm of ['metropolis', 'wolff'] as const) {
  test(`${algorithm}: 4x4 energy, |m|, C and chi match exact enumeration at T = 1.5, 2.27, 3.5`, () => {
    checkAgainstExact(algorithm, 1.5, 1);
    checkAgainstExact(algorithm, 2.27, 2);
    checkAgainstExact(algorithm, 3.5, 3);
  });
}

test('Wolff decorrelates faster than Metropolis near Tc and sweeps are comparable', () => {
  const T = ISING_CRITICAL_TEMPERATURE;
  const metro = new IsingModel({ L: 16, seed: 1 }).sample({ temperature: T, sweeps: 3000, burnIn: 200 });
  const wolff = new IsingModel({ L: 16, seed: 1 }).sample({ temperature: T, sweeps: 3000, burnIn: 200, algorithm: 'wolff' });
  const tm = isingThermodynamics(metro).tauAbsMagnetization;
  const tw = isingThermodynamics(wolff).tauAbsMagnetization;
  assert.ok(tw < tm / 3, `tau |m|: Wolff ${tw} vs Metropolis ${tm}`);
  // A Wolff sweep flips about N spins on average.
  const perSweep = (wolff.clustersPerSweep ?? 0) * (wolff.meanClusterSize ?? 0);
  assert.ok(perSweep > 0.5 * 256 && perSweep < 2 * 256, `spins per Wolff sweep ${perSweep}`);
  assert.ok(metro.acceptanceRate !== undefined && metro.acceptanceRate > 0.05 && metro.acceptanceRate < 0.5);
});

test('Onsager: Tc, u(Tc) = -sqrt 2, C = du/dT, spontaneous magnetisation; large lattice near Onsager', () => {
  assertClose(ISING_CRITICAL_TEMPERATURE, 2.269185314213022, 1e-12, 'Tc');
  assertClose(onsagerEnergy(ISING_CRITICAL_TEMPERATURE), -Math.SQRT2, 1e-9, 'u(Tc)');
  for (const T of [1.2, 2.0, 2.2, 2.4, 3.5]) {
    const h = 1e-5;
    const du = (onsagerEnergy(T + h) - onsagerEnergy(T - h)) / (2 * h);
    assertClose(onsagerSpecificHeat(T), du, 1e-5, `C(${T}) = du/dT`);
  }
  assertClose(onsagerEnergy(0.5), -2, 1e-6, 'ground state');
  assertClose(onsagerEnergy(0.001), -2, 1e-12, 'no overflow at very low T');
  assertClose(onsagerMagnetization(0.001), 1, 1e-12, 'saturated magnetisation');
  assertClose(onsagerMagnetization(2.0), (1 - Math.sinh(1) ** -4) ** 0.125, 1e-15, 'm(2)');
  assert.equal(onsagerMagnetization(2.3), 0);
  assert.equal(onsagerSpecificHeat(ISING_CRITICAL_TEMPERATURE), Infinity);
  // J scales the temperature axis: u(T; J) = J u(T / J; 1).
  assertClose(onsagerSolution({ J: 2 }).energy(4), 2 * onsagerEnergy(2), 1e-12, 'J scaling');
  // Away from Tc, a 24x24 lattice is already close to the infinite one.
  const model = new IsingModel({ L: 24, seed: 5 });
  for (const T of [1.8, 3.2]) {
    const th = isingThermodynamics(model.sample({ temperature: T, sweeps: 600, burnIn: 200, algorithm: 'wolff', initial: 'up' }));
    assertClose(th.energy.value, onsagerEnergy(T), 0.01, `24x24 energy at T=${T}`);
    assertClose(th.absMagnetization.value, onsagerMagnetization(T), T < 2 ? 0.01 : 0.1, `24x24 |m| at T=${T}`);
  }
});

test('seeds reproduce; state continues between calls; configurations match the series', () => {
  const run = (seed: number) => new IsingModel({ L: 6, seed }).sample({ temperature: 2.5, sweeps: 50, burnIn: 5, algorithm: 'wolff' });
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3).energy, run(4).energy);
  const model = new IsingModel({ L: 5, seed: 1 });
  const r = model.sample({ temperature: 2, sweeps: 20, burnIn: 0, thin: 4, returnConfigurations: true });
  assert.equal(r.energy.length, 5);
  assert.equal(r.configurations.length, 5); // typed as present with returnConfigurations: true
  const measured = measureIsing(r.configurations, { L: 5 });
  assert.deepEqual(measured, { energy: r.energy, magnetization: r.magnetization });
  assert.deepEqual(model.getState(), r.configurations[4], 'the model keeps its last state');
  // Initial states.
  const cold = new IsingModel({ L: 4, seed: 1 });
  const frozen = cold.sample({ temperature: 0.1, sweeps: 3, burnIn: 0, initial: 'down' });
  assert.deepEqual(frozen.magnetization, [-1, -1, -1]);
  assert.deepEqual(frozen.energy, [-2, -2, -2]);
  const fixed = new Int8Array(16).fill(1);
  fixed[0] = -1;
  cold.setState(fixed);
  assertClose(cold.energy(), -(32 - 8) / 16, 1e-15, 'one flipped spin costs 8J');
  assertClose(cold.magnetization(), 14 / 16, 1e-15, 'magnetisation');
});

test('measureIsing: spin and binary encodings, flat arrays', () => {
  // Checkerboard 4x4: every bond anti-aligned, E/N = +2J, m = 0.
  const checker = Array.from({ length: 16 }, (_, i) => ((Math.floor(i / 4) + i) % 2 ? 1 : -1));
  const up = new Array<number>(16).fill(1);
  const r = measureIsing([...checker, ...up], { L: 4, J: 1.5 });
  assert.deepEqual(r, { energy: [3, -3], magnetization: [0, 1] });
  const binary = Float32Array.from([...checker, ...up], (v) => (v + 1) / 2);
  assert.deepEqual(measureIsing(binary, { L: 4, J: 1.5, encoding: 'binary' }), r);
  assert.throws(() => measureIsing([0, 1, 1, 0], { L: 2 }), /only \+1 and -1/);
  assert.throws(() => measureIsing(new Float32Array(15), { L: 4 }), /whole number of L\*L = 16/);
});

test('bad input is named', () => {
  assert.throws(() => new IsingModel({ L: 1 }), /L must be an integer >= 2; got 1/);
  assert.throws(() => new IsingModel({ L: 2.5 }), /L must be a positive integer; got 2.5/);
  assert.throws(() => new IsingModel({ L: NaN }), /L/);
  assert.throws(() => new IsingModel({ L: 4, J: 0 }), /J must be a non-zero/);
  assert.throws(() => new IsingModel({ L: 4, J: Infinity }), /J must be a finite number/);
  const model = new IsingModel({ L: 4, seed: 1 });
  assert.throws(() => model.sample({ temperature: 0, sweeps: 10 }), /temperature must be in \(0, inf\); got 0/);
  assert.throws(() => model.sample({ temperature: -1, sweeps: 10 }), /temperature/);
  assert.throws(() => model.sample({ temperature: NaN, sweeps: 10 }), /temperature must be a finite number; got NaN/);
  assert.throws(() => model.sample({ temperature: 2, sweeps: 0 }), /sweeps must be a positive integer; got 0/);
  assert.throws(() => model.sample({ temperature: 2, sweeps: 10, burnIn: -3 }), /burnIn/);
  assert.throws(() => model.sample({ temperature: 2, sweeps: 10, thin: 0 }), /thin/);
  assert.throws(
    () => model.sample({ temperature: 2, sweeps: 10, algorithm: 'heatbath' as unknown as 'wolff' }),
    /algorithm must be one of 'metropolis', 'wolff'; got "heatbath"/,
  );
  assert.throws(() => model.sample({ temperature: 2, sweeps: 10, initial: new Int8Array(9) }), /state must be an Int8Array of L\*L = 16/);
  assert.throws(() => model.sample({ temperature: 2, sweeps: 10, initial: new Int8Array(16) }), /only \+1 and -1/);
  assert.throws(() => model.sample({ temperature: 2, sweeps: 10, initial: 'hot' as unknown as 'up' }), /initial/);
  assert.throws(() => new IsingModel({ L: 4, J: -1 }).sample({ temperature: 2, sweeps: 5, algorithm: 'wolff' }), /J > 0/);
  assert.throws(() => isingExact(6, 2), /L must be an integer in \[2, 5\]/);
  assert.throws(() => isingExact(4, 0), /temperature/);
  assert.throws(() => onsagerEnergy(-1), /temperature/);
  assert.throws(() => isingThermodynamics({ energy: [1, 2], magnetization: [1], temperature: 2, L: 4 }), /same length/);
});

test('isingConfigurations: 0/1 rows with matching energies, exact averages, cached per temperature', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ising-'));
  const saved = process.env.GENLAB_CACHE_DIR;
  process.env.GENLAB_CACHE_DIR = dir;
  try {
    const opts = { L: 4, temperatures: [2.0, 3.6], samplesPerTemperature: 4000, sweepsBetween: 2, burnIn: 100, seed: 7 };
    const first = isingConfigurations(opts);
    assert.equal(first.nSpins, 16);
    assert.deepEqual(first.sets.map((s) => [s.temperature, s.algorithm, s.fromCache]), [
      [2.0, 'wolff', false],
      [3.6, 'metropolis', false],
    ]);
    for (const set of first.sets) {
      assert.deepEqual(set.shape, [4000, 16]);
      assert.equal(set.configurations.length, 4000 * 16);
      assert.ok(set.configurations.every((v) => v === 0 || v === 1));
      assert.deepEqual(measureIsing(set.configurations, { L: 4, encoding: 'binary' }), { energy: set.energy, magnetization: set.magnetization });
      const th = isingThermodynamics({ energy: set.energy, magnetization: set.magnetization, temperature: set.temperature, L: 4 });
      const ex = isingExact(4, set.temperature);
      assert.ok(Math.abs(th.energy.value - ex.energy) < 4 * th.energy.stderr, `T=${set.temperature} energy ${th.energy.value} vs ${ex.energy}`);
      assert.ok(
        Math.abs(th.absMagnetization.value - ex.absMagnetization) < 4 * th.absMagnetization.stderr,
        `T=${set.temperature} |m| ${th.absMagnetization.value} vs ${ex.absMagnetization}`,
      );
    }
    // Below Tc Wolff visits both signs of m.
    const m = first.sets[0].magnetization;
    assert.ok(m.some((v) => v > 0.5) && m.some((v) => v < -0.5), 'both magnetised states sampled');
    // Cached: same data, read back; a temperature's data do not depend on the other temperatures asked for.
    const again = isingConfigurations({ ...opts, temperatures: [3.6] });
    assert.equal(again.sets[0].fromCache, true);
    assert.deepEqual(again.sets[0].configurations, first.sets[1].configurations);
    const fresh = isingConfigurations({ ...opts, temperatures: [3.6], cache: false });
    assert.equal(fresh.sets[0].fromCache, false);
    assert.deepEqual(fresh.sets[0].energy, first.sets[1].energy, 'same seed, same data without the cache');
    // A damaged file is detected and regenerated.
    const files = fs.readdirSync(path.join(dir, 'ising'));
    assert.equal(files.length, 2);
    const file = path.join(dir, 'ising', files.find((f) => f.includes('T3.6')) ?? '');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] = -bytes[bytes.length - 1];
    fs.writeFileSync(file, bytes);
    const repaired = isingConfigurations({ ...opts, temperatures: [3.6] });
    assert.equal(repaired.sets[0].fromCache, false);
    assert.deepEqual(repaired.sets[0].configurations, first.sets[1].configurations);
    fs.truncateSync(file, 100);
    assert.equal(isingConfigurations({ ...opts, temperatures: [3.6] }).sets[0].fromCache, false);
    assert.equal(isingConfigurations({ ...opts, temperatures: [3.6] }).sets[0].fromCache, true);
  } finally {
    if (saved === undefined) delete process.env.GENLAB_CACHE_DIR;
    else process.env.GENLAB_CACHE_DIR = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const base = { L: 4, temperatures: [2], samplesPerTemperature: 10, cache: false };
  assert.throws(() => isingConfigurations({ ...base, L: 1 }), /L must be an integer in \[2, 64\]; got 1/);
  assert.throws(() => isingConfigurations({ ...base, temperatures: [] }), /temperatures must be a non-empty array/);
  assert.throws(() => isingConfigurations({ ...base, temperatures: [2, 0] }), /temperatures\[1\]/);
  assert.throws(() => isingConfigurations({ ...base, samplesPerTemperature: 0 }), /samplesPerTemperature/);
  assert.throws(() => isingConfigurations({ ...base, sweepsBetween: 1.5 }), /sweepsBetween/);
  assert.throws(() => isingConfigurations({ ...base, algorithm: 'gibbs' as unknown as 'wolff' }), /algorithm/);
});

test('isingTemperatureScan: one annealed chain, auto algorithm, curves ordered like the physics', () => {
  const temperatures = [3.5, 2.6, 2.27, 1.8, 1.2];
  const scan = isingTemperatureScan({ L: 8, temperatures, sweeps: 1500, burnIn: 100, seed: 2 });
  assert.deepEqual(scan.map((p) => p.temperature), temperatures);
  assert.deepEqual(scan.map((p) => p.algorithm), ['metropolis', 'wolff', 'wolff', 'wolff', 'wolff']);
  for (let i = 1; i < scan.length; i++) {
    assert.ok(scan[i].energy.value < scan[i - 1].energy.value, 'energy falls as T falls');
    assert.ok(scan[i].absMagnetization.value > scan[i - 1].absMagnetization.value, '|m| grows as T falls');
  }
  assert.ok(scan[4].absMagnetization.value > 0.99 && scan[0].absMagnetization.value < 0.3);
  assert.throws(() => isingTemperatureScan({ L: 8, temperatures: [], sweeps: 10 }), /temperatures/);
  assert.throws(() => isingTemperatureScan({ L: 8, temperatures: [2], sweeps: 10, algorithm: 'x' as unknown as 'wolff' }), /algorithm/);
});

test('Ising error bars (autocorrelation-corrected) cover the exact 4x4 energy and |m| in about 95 % of 200 seeds; iid ones do not', (t) => {
  const T = 2.27;
  const ex = isingExact(4, T);
  const seeds = 200;
  const n = 2000;
  let eCovered = 0;
  let mCovered = 0;
  let iidCovered = 0;
  for (let s = 0; s < seeds; s++) {
    const run = new IsingModel({ L: 4, seed: 7000 + s }).sample({ temperature: T, sweeps: n, burnIn: 200, algorithm: 'metropolis' });
    const th = isingThermodynamics(run);
    if (Math.abs(th.energy.value - ex.energy) <= 1.96 * th.energy.stderr) eCovered++;
    if (Math.abs(th.absMagnetization.value - ex.absMagnetization) <= 1.96 * th.absMagnetization.stderr) mCovered++;
    // The iid formula sqrt(Var / n) on the same correlated draws, for contrast.
    const mean = th.absMagnetization.value;
    let ss = 0;
    for (const m of run.magnetization) ss += (Math.abs(m) - mean) ** 2;
    if (Math.abs(mean - ex.absMagnetization) <= 1.96 * Math.sqrt(ss / n / n)) iidCovered++;
  }
  t.diagnostic(`Ising 4x4, T = 2.27, 2000 Metropolis sweeps: 95 % intervals cover exact energy ${eCovered}/${seeds}, |m| ${mCovered}/${seeds}; iid formula on |m| ${iidCovered}/${seeds}`);
  // Sokal's window slightly underestimates tau on short runs: accept 88-99 %.
  for (const c of [eCovered, mCovered]) assert.ok(c >= 176 && c <= 198, `coverage ${c}/${seeds}`);
  assert.ok(iidCovered < 170, `iid intervals should under-cover: ${iidCovered}/${seeds}`);
});
