/**
 * Pretrained models made by genlab's own recipes (`npm run pretrain -- <name>`) and shipped with the package:
 * `pretrained(name)` loads one offline, `pretrainedInfo(name)` gives its manifest (recipe, training time and
 * machine, quality figures, checksum), `listPretrained()` the names with a committed checkpoint.
 */
export { pretrained, pretrainedInfo, listPretrained } from './registry';
export type { PretrainedOptions } from './registry';
export { PRETRAINED_NAMES } from './recipe';
export type { PretrainedName, PretrainedModels, PretrainedInfo, QualityFigure, PretrainMachine, PretrainRecipe, PretrainableModel, RecipeData, PretrainContext, RecipeSettings } from './recipe';
