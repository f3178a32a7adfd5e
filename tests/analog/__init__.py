"""Tests of taafs_sk.analog."""
