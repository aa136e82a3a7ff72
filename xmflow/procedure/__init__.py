"""The procedure as data: the process table (`process.yaml`), its parser and cross-checks, the field
types and conditions."""
