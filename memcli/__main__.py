from memcli.server.client import main

main()
