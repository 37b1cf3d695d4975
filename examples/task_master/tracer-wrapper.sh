#!/bin/bash
# tracer-wrapper.sh COMMAND [ARGS...]: runs the command as the agent step
# ${AGENT}/${STEP}, a child of the TRACEPARENT the step was given, with the
# workflow's context from the environment; prints the span's trace and span
# id as JSON first (for log correlation) and exits with the command's status.
set -euo pipefail
exec semtel exec \
  --name "${AGENT:-unknown}/${STEP:-execute}" \
  --attrs-from-env repo=REPO,pr.number=PR_NUMBER,task.id=TASK_ID,agent=AGENT,workflow.name=WORKFLOW_NAME,node.id=NODE_ID \
  --print-context - \
  -- "$@"
