"""Tests of taafs_sk.datasets."""
