"""Tests of taafs_sk.cli."""
