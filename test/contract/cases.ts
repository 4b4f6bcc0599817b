/** Every family's contract entry (see case.ts); each family keeps its entry in its own file. */
import type { ContractCase } from './case';
import { bernoulliRBM, gaussianBernoulliRBM } from './rbm';
import { vae } from './vae';
import { autoencoder } from './autoencoder';
import { energyModel } from './ebm';
import { gan } from './gan';
import { ddpm } from './ddpm';

export const CASES: ContractCase[] = [bernoulliRBM, gaussianBernoulliRBM, vae, autoencoder, energyModel, gan, ddpm];
