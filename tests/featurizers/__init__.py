"""Tests of taafs_sk.featurizers."""
