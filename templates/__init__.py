"""The packaged form templates (installed as ``xmflow.templates``); a workspace overrides one
by putting a file of the same name in its own ``templates/``."""
