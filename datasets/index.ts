/**
 * genlab's data sets: MNIST-style loaders, the IDX reader and small synthetic sets. Re-exported by the
 * library barrel (lib/index.ts). Sources and licences: datasets/README.md.
 */
export * from './idx'; // readIdx, parseIdx, encodeIdx, IDX magic numbers             (display/datasets)
export type { ImageDataset, ImageLoadOptions } from './common'; //                            (display/datasets)
export * from './mnist'; // loadMnist, MNIST_LABELS                                       (display/datasets)
export * from './fashion-mnist'; // loadFashionMnist, FASHION_MNIST_LABELS                (display/datasets)
export * from './synthetic'; // barsAndStripes, correlatedGaussian                        (display/datasets)
export * from './ising'; // isingConfigurations (Ising Monte Carlo data for RBMs)           (MCMC)
