"""The printed forms: their model, the rendering from `templates/`, the sandbox, the static site."""
