from xmflow.cli.main import main

main()
