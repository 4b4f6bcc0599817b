/** Small statistics shared by the benchmark harnesses. */

/** The median of `xs` (NaN when empty). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Time and calls per kernel name of a `tf.profile` run, largest total first. */
export function kernelTimes(kernels: Array<{ name: string; kernelTimeMs: unknown }>): Array<[string, { ms: number; calls: number }]> {
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.calls += 1;
    byKernel.set(k.name, e);
  }
  return [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
}
