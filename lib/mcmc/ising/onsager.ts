/** Onsager's solution for the infinite square lattice: critical temperature, energy, magnetisation, specific heat. */
import { assertFiniteNumber, assertKnownOptions, optionKeys } from '../../core/validate';

/** Onsager's critical temperature of the square-lattice Ising model for J = 1: 2 / ln(1 + sqrt 2) ~= 2.269185. */
export const ISING_CRITICAL_TEMPERATURE = 2 / Math.log(1 + Math.SQRT2);

/** Complete elliptic integrals K(k) and E(k) (modulus k, 0 <= k < 1) by the arithmetic-geometric mean. */
function ellipticKE(k: number): { K: number; E: number } {
  let a = 1;
  let b = Math.sqrt(Math.max(0, 1 - k * k));
  let c = k;
  let sum = 0.5 * c * c; // sum_{n>=0} 2^(n-1) c_n^2
  let pow = 0.5;
  for (let it = 0; it < 60 && Math.abs(c) > 1e-16; it++) {
    const an = (a + b) / 2;
    const bn = Math.sqrt(a * b);
    c = (a - b) / 2;
    a = an;
    b = bn;
    pow *= 2;
    sum += pow * c * c;
  }
  const K = Math.PI / (2 * a);
  return { K, E: K * (1 - sum) };
}

function onsagerArgs(temperature: number, J: number): { bj: number; k: number; t2: number } {
  assertFiniteNumber('temperature', temperature, { min: 0, exclusiveMin: true });
  assertFiniteNumber('J', J, { min: 0, exclusiveMin: true });
  const bj = (2 * J) / temperature; // 2 beta J
  const k = Math.min(1, (2 * Math.tanh(bj)) / Math.cosh(bj)); // = 2 sinh / cosh^2, finite at low T
  const t2 = Math.tanh(bj) ** 2;
  return { bj, k, t2 };
}

/**
 * Onsager's exact internal energy per spin of the infinite square lattice (zero field, J = 1; for another J > 0
 * use {@link onsagerSolution}):
 *
 *   u = -J coth(2 beta J) [1 + (2 / pi) (2 tanh^2(2 beta J) - 1) K(k)],   k = 2 sinh(2 beta J) / cosh^2(2 beta J),
 *
 * with K the complete elliptic integral of the first kind. u(Tc) = -sqrt(2) J. One argument, so
 * `temperatures.map(onsagerEnergy)` is safe.
 */
export function onsagerEnergy(temperature: number): number {
  return onsagerEnergyJ(temperature, 1);
}

function onsagerEnergyJ(temperature: number, J: number): number {
  const { bj, k, t2 } = onsagerArgs(temperature, J);
  const f = 2 * t2 - 1;
  if (Math.abs(f) < 1e-15) return -J / Math.tanh(bj);
  return (-J / Math.tanh(bj)) * (1 + (2 / Math.PI) * f * ellipticKE(k).K);
}

/**
 * Onsager's (and Yang's) spontaneous magnetisation per spin of the infinite lattice (J = 1; see
 * {@link onsagerSolution} for another J): m = (1 - sinh(2 beta J)^-4)^(1/8) below Tc = 2J / ln(1 + sqrt 2), and 0
 * above. One argument, so `temperatures.map(onsagerMagnetization)` is safe.
 */
export function onsagerMagnetization(temperature: number): number {
  return onsagerMagnetizationJ(temperature, 1);
}

function onsagerMagnetizationJ(temperature: number, J: number): number {
  const { bj } = onsagerArgs(temperature, J);
  const x = 1 - Math.sinh(bj) ** -4;
  return x > 0 ? x ** 0.125 : 0;
}

/**
 * Onsager's specific heat per spin of the infinite lattice (k_B = 1), which diverges logarithmically at Tc:
 *
 *   c = (4 / pi) (beta J coth 2 beta J)^2 { K(k) - E(k) - (1 - tanh^2 2 beta J) [pi / 2 + (2 tanh^2 2 beta J - 1) K(k)] }
 *
 * (the temperature derivative of {@link onsagerEnergy}; E is the complete elliptic integral of the second kind).
 *
 * Returns Infinity exactly at Tc. J = 1 (see {@link onsagerSolution} for another J); one argument, so
 * `temperatures.map(onsagerSpecificHeat)` is safe.
 */
export function onsagerSpecificHeat(temperature: number): number {
  return onsagerSpecificHeatJ(temperature, 1);
}

function onsagerSpecificHeatJ(temperature: number, J: number): number {
  const { bj, k, t2 } = onsagerArgs(temperature, J);
  if (k >= 1) return Infinity;
  const { K, E } = ellipticKE(k);
  const pre = (4 / Math.PI) * ((bj / 2) / Math.tanh(bj)) ** 2;
  return pre * (K - E - (1 - t2) * (Math.PI / 2 + (2 * t2 - 1) * K));
}

/** Options of {@link onsagerSolution}. */
export interface OnsagerOptions {
  /** Coupling J > 0. Default 1. */
  J?: number;
}

const ONSAGER_OPTION_KEYS = optionKeys<OnsagerOptions>({ J: true });

/** Onsager's infinite-lattice solution for one coupling: one-argument functions of the temperature. */
export interface OnsagerSolution {
  /** Internal energy per spin u(T) (see {@link onsagerEnergy}). */
  energy(temperature: number): number;
  /** Spontaneous magnetisation per spin m(T) (see {@link onsagerMagnetization}). */
  magnetization(temperature: number): number;
  /** Specific heat per spin c(T) (see {@link onsagerSpecificHeat}). */
  specificHeat(temperature: number): number;
  /** The critical temperature 2J / ln(1 + sqrt 2). */
  criticalTemperature: number;
}

/**
 * Onsager's solution for coupling `J` (default 1): `onsagerSolution({ J: 2 }).energy(4)` equals
 * `2 * onsagerEnergy(2)` (u scales as J u(T / J)). Its functions take one argument, safe for `Array.map`.
 */
export function onsagerSolution(options: OnsagerOptions = {}): OnsagerSolution {
  assertKnownOptions('onsagerSolution', options, ONSAGER_OPTION_KEYS);
  const J = options?.J ?? 1;
  assertFiniteNumber('J', J, { min: 0, exclusiveMin: true });
  return {
    energy: (temperature: number) => onsagerEnergyJ(temperature, J),
    magnetization: (temperature: number) => onsagerMagnetizationJ(temperature, J),
    specificHeat: (temperature: number) => onsagerSpecificHeatJ(temperature, J),
    criticalTemperature: ISING_CRITICAL_TEMPERATURE * J,
  };
}
