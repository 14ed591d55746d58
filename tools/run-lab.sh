#!/usr/bin/env bash
# run-lab.sh - `make run`: start the lab in ./var (or $CTDLAB_HOME), run the
# seed's four-step drill, print the report, and leave the lab up with a few
# lines on where everything is.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${CTDLAB_HOME:-./var}
ctdlab=bin/ctdlab

"$ctdlab" --dir "$dir" up || exit 1
echo
"$ctdlab" --dir "$dir" drill all
drill_rc=$?
echo
"$ctdlab" --dir "$dir" status
cat <<EOF2

The lab stays up. Point your clients at the URLs above (self-signed certificates:
use your client's "insecure"/"verify off" option), with the keys shown:
  - DTAS Web Service API (DDAN):  <ddan https>/web_service/sample_upload/...  api_key
  - Automation API (TMCM):        <tmcm https>/WebApp/api/...  app_id + api_key (JWT)
  - SMTP (IMSVA):                 the smtp listener; e.g. bin/ctdlab send --to you@lab.test --attach FILE
  - web consoles (a browser):     each appliance's "console" line above, with its login
  - timeline:                     bin/ctdlab --dir $dir events --follow
Stop it with:   bin/ctdlab --dir $dir down      Start over:  bin/ctdlab --dir $dir reset
EOF2
exit $drill_rc
