#!/usr/bin/env bash
# System programs a few tests drive, installed by `make test` when it can:
#   cron                      - tests/consolidate/test_cron.py runs `mem schedule` under a real cron daemon
#   chromium, chromium-driver - tests/server/test_ui.py drives `mem ui` in Debian's browser
# Installed only as root with apt-get (as CI runs); otherwise one line says what will skip and
# the command that enables it. Never fails the test run.
need=()
command -v cron >/dev/null 2>&1 || need+=(cron)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium chromium-driver)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1; then
    exit 0
  fi
fi
what=()
[[ " ${need[*]} " == *" cron "* ]] && what+=("the cron test")
[[ " ${need[*]} " == *" chromium "* ]] && what+=("the browser tests of mem ui")
echo "make test: $(IFS=,; echo "${what[*]}" | sed 's/,/ and /') will skip (no ${need[*]}); to run them: sudo apt-get install ${need[*]}"
exit 0
