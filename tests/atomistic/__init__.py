"""Tests of taafs_sk.atomistic."""
