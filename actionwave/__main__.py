from actionwave.cli import main

main()
