"""Tests of taafs_sk.taafs."""
