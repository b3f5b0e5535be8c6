"""Helpers for tests and benchmarks: a simulator of training curves with known ground truth."""
