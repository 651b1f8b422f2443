"""Root conftest: the harness itself is the ``dhcpdrill`` pytest plugin (registered by the package's
entry point); this file only makes ``scenarios/`` importable from ``drills/`` and ``tests/``."""
