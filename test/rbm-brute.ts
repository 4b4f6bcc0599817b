/**
 * Brute-force reference computations for small RBMs in double precision (plain JS, no tensors): the ground truth
 * the RBM tests compare genlab against.
 */
import { Random } from '../lib/engine/random';

/** A small Bernoulli RBM as plain arrays: W[i][j] (nV x nH), a[i], b[j]. */
export interface SmallRBM {
  W: number[][];
  a: number[];
  b: number[];
}

export function randomRBM(nV: number, nH: number, std: number, seed: number): SmallRBM {
  const r = new Random(seed);
  return {
    W: Array.from({ length: nV }, () => Array.from({ length: nH }, () => std * r.normal())),
    a: Array.from({ length: nV }, () => std * r.normal() * 0.5),
    b: Array.from({ length: nH }, () => std * r.normal() * 0.5),
  };
}

/** All 2^n binary vectors, bit j of index x at position j. */
export function allStates(n: number): number[][] {
  return Array.from({ length: 2 ** n }, (_, x) => Array.from({ length: n }, (_, j) => Math.floor(x / 2 ** j) % 2));
}

export function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

/** -E(v, h) = a.v + b.h + v^T W h */
export function negEnergy(m: SmallRBM, v: number[], h: number[]): number {
  let e = 0;
  for (let i = 0; i < v.length; i++) e += m.a[i] * v[i];
  for (let j = 0; j < h.length; j++) e += m.b[j] * h[j];
  for (let i = 0; i < v.length; i++) for (let j = 0; j < h.length; j++) e += v[i] * m.W[i][j] * h[j];
  return e;
}

/** Free energy by summing over all hidden states: F(v) = -log sum_h exp(-E(v, h)). */
export function bruteFreeEnergy(m: SmallRBM, v: number[]): number {
  return -logSumExp(allStates(m.b.length).map((h) => negEnergy(m, v, h)));
}

/** log Z by summing over all joint states. */
export function bruteLogZ(m: SmallRBM): number {
  const hs = allStates(m.b.length);
  const terms: number[] = [];
  for (const v of allStates(m.a.length)) for (const h of hs) terms.push(negEnergy(m, v, h));
  return logSumExp(terms);
}

/** Exact p(v) for every visible state (index = binary number). */
export function bruteVisibleDistribution(m: SmallRBM): number[] {
  const logZ = bruteLogZ(m);
  return allStates(m.a.length).map((v) => Math.exp(-bruteFreeEnergy(m, v) - logZ));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Model expectations <v_i h_j>, <v_i>, <h_j> (with h -> P(h|v), exact) by enumeration of v. */
export function bruteModelExpectations(m: SmallRBM): { W: number[][]; a: number[]; b: number[] } {
  const nV = m.a.length;
  const nH = m.b.length;
  const pv = bruteVisibleDistribution(m);
  const W = Array.from({ length: nV }, () => new Array<number>(nH).fill(0));
  const a = new Array<number>(nV).fill(0);
  const b = new Array<number>(nH).fill(0);
  allStates(nV).forEach((v, x) => {
    const ph = m.b.map((bj, j) => sigmoid(bj + v.reduce((s, vi, i) => s + vi * m.W[i][j], 0)));
    for (let i = 0; i < nV; i++) {
      a[i] += pv[x] * v[i];
      for (let j = 0; j < nH; j++) W[i][j] += pv[x] * v[i] * ph[j];
    }
    for (let j = 0; j < nH; j++) b[j] += pv[x] * ph[j];
  });
  return { W, a, b };
}

/** Data expectations <v_i P(h_j|v)>_data etc. */
export function bruteDataExpectations(m: SmallRBM, data: number[][]): { W: number[][]; a: number[]; b: number[] } {
  const nV = m.a.length;
  const nH = m.b.length;
  const W = Array.from({ length: nV }, () => new Array<number>(nH).fill(0));
  const a = new Array<number>(nV).fill(0);
  const b = new Array<number>(nH).fill(0);
  for (const v of data) {
    const ph = m.b.map((bj, j) => sigmoid(bj + v.reduce((s, vi, i) => s + vi * m.W[i][j], 0)));
    for (let i = 0; i < nV; i++) {
      a[i] += v[i] / data.length;
      for (let j = 0; j < nH; j++) W[i][j] += (v[i] * ph[j]) / data.length;
    }
    for (let j = 0; j < nH; j++) b[j] += ph[j] / data.length;
  }
  return { W, a, b };
}

/** Cosine similarity and relative error ||x - y|| / ||y|| of two flattened vectors. */
export function compareVectors(x: number[], y: number[]): { cosine: number; relError: number } {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  let dd = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i] * y[i];
    xx += x[i] * x[i];
    yy += y[i] * y[i];
    dd += (x[i] - y[i]) ** 2;
  }
  return { cosine: xy / Math.sqrt(xx * yy), relError: Math.sqrt(dd / yy) };
}

/** Bars-and-stripes patterns on an s x s grid (2^(s+1) - 2 distinct patterns, each listed once). */
export function barsAndStripes(s: number): number[][] {
  const out = new Set<string>();
  for (let x = 0; x < 2 ** s; x++) {
    const bits = Array.from({ length: s }, (_, j) => Math.floor(x / 2 ** j) % 2);
    const rows: number[] = [];
    const cols: number[] = [];
    for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) {
      rows.push(bits[r]);
      cols.push(bits[c]);
    }
    out.add(rows.join(''));
    out.add(cols.join(''));
  }
  return [...out].map((str) => str.split('').map(Number));
}
