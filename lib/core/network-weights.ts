/**
 * Internal (not exported from the package): how the VAE and the Autoencoder keep their tf.LayersModel networks in
 * a checkpoint (lib/core/checkpoint.ts). Each network's weights are stored as `<name>/<i>` in `getWeights()` order
 * (kernel, bias, ... by layer: stable for a given architecture).
 */
import { tf } from '../engine/backend';

/** What a network must offer: tf.LayersModel does. */
interface Network {
  getWeights(): tf.Tensor[];
  setWeights(weights: tf.Tensor[]): void;
}

/** Checkpoint tensors `<name>/<i>` for each named network (the weights themselves, not copies). */
export function networkTensors(networks: Record<string, Network>): Record<string, tf.Tensor> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, net] of Object.entries(networks)) net.getWeights().forEach((w, i) => (tensors[`${name}/${i}`] = w));
  return tensors;
}

/**
 * Puts checkpoint tensors back into each named network. Refuses, naming the directory, a count of `<name>/*`
 * tensors other than the network's and a missing or wrongly shaped weight; checks everything before setting any.
 */
export function restoreNetworks(dir: string, tensors: Record<string, tf.Tensor>, networks: Record<string, Network>): void {
  const plan: Array<[Network, tf.Tensor[]]> = [];
  for (const [name, net] of Object.entries(networks)) {
    const current = net.getWeights();
    const stored = Object.keys(tensors).filter((k) => k.startsWith(`${name}/`)).length;
    if (stored !== current.length) {
      throw new Error(`checkpoint at ${dir}: the ${name} has ${stored} weight tensors; the configured ${name} has ${current.length}`);
    }
    const loaded = current.map((w, i) => {
      const t = tensors[`${name}/${i}`];
      if (!t || t.shape.join(',') !== w.shape.join(',')) {
        throw new Error(`checkpoint at ${dir}: ${name} weight ${i} is missing or has the wrong shape (expected [${w.shape.join(', ')}])`);
      }
      return t;
    });
    plan.push([net, loaded]);
  }
  for (const [net, loaded] of plan) net.setWeights(loaded);
}

/**
 * Restores the named `networks` of a freshly built `model` from checkpoint tensors (see {@link restoreNetworks}) and
 * returns the model; on failure the model is disposed and the error rethrown.
 */
export function restoreOrDispose<M extends { dispose(): void }>(
  dir: string, tensors: Record<string, tf.Tensor>, model: M, networks: Record<string, Network>,
): M {
  try {
    restoreNetworks(dir, tensors, networks);
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * Every variable of tfjs-layers networks, trainable or not (kernels, biases, BatchNorm moving statistics): the live
 * `tf.Variable`s an optimiser updates, what a model's `variables()` lists.
 */
export function networkVariables(...networks: tf.LayersModel[]): tf.Variable[] {
  return networks.flatMap((net) => net.weights.map((w) => w.read() as tf.Variable));
}
