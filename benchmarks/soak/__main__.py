from benchmarks.soak.cli import main

main()
