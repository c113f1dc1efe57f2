from orderflow.cli.main import main

main()
