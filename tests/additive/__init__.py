"""Tests of taafs_sk.additive."""
