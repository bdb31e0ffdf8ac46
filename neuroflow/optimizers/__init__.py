"""Optimizers shared by Keras, nf.function training loops and TF1 graphs (placeholder)."""
