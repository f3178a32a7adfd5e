"""Tests of taafs_sk.studies."""
