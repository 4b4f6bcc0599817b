/**
 * The Gaussian latent layer every latent-variable model shares: the reparameterisation trick (Kingma & Welling
 * 2014, sec. 2.4), written once.
 */
import { tf } from '../engine/tf';

/**
 * A draw from q(z | x) = N(mean, diag(exp(logVar))) as a differentiable function of its parameters:
 *
 *   z = mean + exp(logVar / 2) * eps,   eps ~ N(0, I)
 *
 * so gradients flow to `mean` and `logVar` while the randomness sits in `eps`. Shapes broadcast: `mean` and
 * `logVar` [n, L] with `eps` [n, L] (one draw per row) or [s, n, L] (s draws per row, giving [s, n, L]).
 * Call inside a tidy (or a gradient scope); the caller draws `eps` from its seeded generator.
 */
export function reparameterise<R extends tf.Rank>(mean: tf.Tensor, logVar: tf.Tensor, eps: tf.Tensor<R>): tf.Tensor<R> {
  return tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor<R>;
}
