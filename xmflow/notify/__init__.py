"""Notices to people who do not run the command line: the notices a sign-off brings, and mail."""
