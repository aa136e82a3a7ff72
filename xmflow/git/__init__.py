"""The only code that runs git: named operations, the all-or-nothing commit (journal), the workspace lock, the hooks."""
