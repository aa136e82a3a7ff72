"""Trust: the checks over each change, verify (the audit), check, the server's side of a push, the trail."""
