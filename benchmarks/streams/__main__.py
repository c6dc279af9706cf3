from benchmarks.streams.cli import main

main()
