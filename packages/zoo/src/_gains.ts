// Weight scales (relative to 1/sqrt(fan_in)) that keep activations finite and non-degenerate
// through the deepest zoo network with seeded uniform weights and no training.

/** Before a ReLU / ReLU6: He initialisation keeps the second moment constant. */
export const RELU = Math.SQRT2;
/** Before no activation (projections, classifiers). */
export const LINEAR = 1;
/** Before SiLU: E[silu(x)^2] is about 0.36 E[x^2] near unit variance, so 1/sqrt(0.36). */
export const SILU = 1.67;
/** Last conv of a residual branch: a small branch keeps variance from doubling per block. */
export const RESIDUAL = 0.4;
