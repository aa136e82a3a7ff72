from xmflow.cli import main

main()
