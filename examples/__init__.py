"""The demo's people and projects; installed inside the package as ``xmflow.examples``."""
