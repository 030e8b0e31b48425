"""Neural-network layers, losses, optimizers, data and training on top of `autograd`."""
