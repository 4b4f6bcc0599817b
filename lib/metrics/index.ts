/** Sample-quality measures shared by the generative families: energy distance, mode coverage. */
export * from './samples';
