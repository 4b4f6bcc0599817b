/**
 * Every family in the defaults check (ring.ts): built from `dataShape` and `seed` alone. Adding a family is one entry.
 */
import { EnergyModel } from '../../lib/ebm/energy-model';
import { GAN } from '../../lib/gan/gan';
import { DDPM } from '../../lib/diffusion/ddpm';
import type { DefaultsCase } from './ring';

/** 2500 steps in batches of 128: 40 epochs of 8000 points. */
export const gan: DefaultsCase = { name: 'GAN', build: (dataShape, seed, options) => new GAN({ dataShape, seed, ...options }), epochsOn8000: 40 };
/** 2500 steps in batches of 256: 79 epochs of 8000 points. */
export const energyModel: DefaultsCase = {
  name: 'EnergyModel',
  build: (dataShape, seed, options) => new EnergyModel({ dataShape, seed, ...options }),
  epochsOn8000: 79,
};

/** 2500 steps in batches of 128: 40 epochs of 8000 points. */
export const ddpm: DefaultsCase = { name: 'DDPM', build: (dataShape, seed, options) => new DDPM({ dataShape, seed, ...options }), epochsOn8000: 40 };

export const DEFAULTS_CASES: DefaultsCase[] = [gan, energyModel, ddpm];
