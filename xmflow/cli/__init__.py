"""The command line: the typer app, one module per group of commands, the console that draws,
spreadsheets."""


def main() -> None:
    """The console script, ``xmflow`` (pyproject.toml: ``xmflow.cli:main``): every command, the
    demo's too (:mod:`xmflow.cli.entry`)."""
    from xmflow.cli.entry import app

    app()
