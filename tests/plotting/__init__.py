"""Tests of taafs_sk.plotting."""
