/** The 2D Ising model: Metropolis and Wolff updates, exact small-lattice enumeration, Onsager's solution. */
export * from './ising';
