"""The procedure's rules, pure: a project's state, requirements, refusals, who may edit and reopen, a change."""
