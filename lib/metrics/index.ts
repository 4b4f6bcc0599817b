/** Sample-quality measures shared by the generative families: energy distance, kernel MMD, mode coverage. */
export * from './samples';
