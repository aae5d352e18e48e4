from batchproc.cli import main

main()
