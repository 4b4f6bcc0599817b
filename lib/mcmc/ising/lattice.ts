/**
 * The lattice every file of this folder works on: L x L, periodic boundaries.
 *
 * Conventions (k_B = 1, zero field):
 *   H(s) = -J * sum_<ij> s_i s_j,  s_i in {-1, +1},  each nearest-neighbour bond counted once (2N bonds,
 *   N = L^2; on a 2 x 2 torus a site's left and right neighbour coincide and that pair is counted twice).
 *   Site i = row * L + col (row-major), the layout of every configuration genlab returns.
 *   Per-spin observables: e = E / N, m = (1/N) sum_i s_i (signed).
 *   Specific heat per spin  C = N * Var(e) / T^2  = Var(E) / (N T^2).
 *   Susceptibility per spin chi = N * (<m^2> - <|m|>^2) / T  -- the finite-lattice convention with |m|
 *   (Newman & Barkema 1999, eq. 3.53; Landau & Binder): in zero field on a finite lattice <m> = 0 by symmetry,
 *   so N <m^2> / T (also reported, as `susceptibilityZeroField` in exact results) grows like N below Tc.
 */

/** Neighbour table of an L x L torus: entries 4i..4i+3 are the right, left, down and up neighbours of site i. */
export function periodicNeighbours(L: number): Int32Array {
  const nb = new Int32Array(4 * L * L);
  for (let r = 0; r < L; r++) {
    for (let c = 0; c < L; c++) {
      const i = r * L + c;
      nb[4 * i] = r * L + ((c + 1) % L);
      nb[4 * i + 1] = r * L + ((c + L - 1) % L);
      nb[4 * i + 2] = ((r + 1) % L) * L + c;
      nb[4 * i + 3] = ((r + L - 1) % L) * L + c;
    }
  }
  return nb;
}
