/** 2-D embeddings (UMAP, t-SNE, PCA) of codes or data, for maps coloured by label. */
export { embedding } from './embedding';
export type { EmbeddingOptions } from './embedding';
