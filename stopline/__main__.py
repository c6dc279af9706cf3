from stopline.cli import main

main()
