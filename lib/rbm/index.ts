/** Restricted Boltzmann machines: the shared CD/PCD machinery, Bernoulli and Gaussian-Bernoulli visible units. */
export * from './base';
export * from './bernoulli';
export * from './gaussian';
