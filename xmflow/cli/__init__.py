"""The command line: the typer app, one module per group of commands, the console that draws, spreadsheets."""
