"""The test suite: a folder per subpackage; the shared contracts at the top (scikit-learn
checks in test_common.py, the API battery, layout, legacy pickles, registries)."""
