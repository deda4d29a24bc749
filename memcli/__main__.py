from memcli.main import main

main()
