from xmflow.cli.app import main

main()
