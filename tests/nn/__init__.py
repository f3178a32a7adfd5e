"""Tests of taafs_sk.nn."""
