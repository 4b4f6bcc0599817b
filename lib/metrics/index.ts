/** Sample-quality measures shared by the generative families: energy distance, kernel MMD, mode coverage, and the baselines they are read against. */
export * from './samples';
