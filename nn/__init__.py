"""nn: neurons, layers, losses and optimizers built on tinygrad_value's Values."""
