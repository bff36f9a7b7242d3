#!/usr/bin/env bash
# The CRA server from curl, step by step. In one terminal run `npm start`; it prints a line
#   export CRA_API_KEY=cra_...
# paste that line into another terminal, then run these commands (or this file: bash server/walkthrough.sh).
# Needs curl and jq. server/src/walkthrough.test.ts runs this very file against `npm start`.
set -euo pipefail
CRA=${CRA_URL:-http://127.0.0.1:8420}
AUTH="Authorization: Bearer $CRA_API_KEY"
JSON="Content-Type: application/json"

# 1. Up? (no key needed)
curl -s "$CRA/health"; echo

# 2. The atlases loaded from CRA_ATLAS_DIR (default: the example atlas)
curl -s -H "$AUTH" "$CRA/v1/atlases" | jq -r '.items[0].atlas_id'

# 3. A session for an agent and its goal
SESSION=$(curl -s -H "$AUTH" -H "$JSON" -d '{"agent_id":"support-bot","goal":"Handle ticket T-10042"}' "$CRA/v1/sessions" | jq -r .session_id)
echo "session $SESSION"

# 4. Resolve: which context and actions does it get?
curl -s -H "$AUTH" -H "$JSON" -d '{"required_capabilities":["tickets.read","billing.refund"]}' \
  "$CRA/v1/sessions/$SESSION/resolve" | jq -c '{decision}'

# 5. The hot-path check
curl -s -H "$AUTH" "$CRA/v1/sessions/$SESSION/check/ticket.lookup"; echo

# 6. Run an allowed action: request it, run the tool yourself, report the outcome
EXEC=$(curl -s -H "$AUTH" -H "$JSON" -d '{"action_id":"ticket.lookup","parameters":{"ticket_id":"T-10042"}}' \
  "$CRA/v1/sessions/$SESSION/actions" | jq -r .execution_id)
curl -s -H "$AUTH" -H "$JSON" -d '{"result":{"status":"open"},"duration_ms":40}' \
  "$CRA/v1/sessions/$SESSION/actions/$EXEC/complete" | jq -r .status

# 7. A refund needs a human: it waits for approval, bound to the exact call by its approval_hash
REFUND=$(curl -s -H "$AUTH" -H "$JSON" \
  -d '{"action_id":"refund.issue","parameters":{"customer_id":"C-7","payment_id":"P-19","amount":25,"currency":"USD"}}' \
  "$CRA/v1/sessions/$SESSION/actions")
echo "$REFUND" | jq -r .status
REFUND_ID=$(echo "$REFUND" | jq -r .execution_id)
HASH=$(echo "$REFUND" | jq -r .approval_hash)
curl -s -H "$AUTH" -H "$JSON" -d "{\"approver\":\"lead@example.com\",\"approval_hash\":\"$HASH\"}" \
  "$CRA/v1/sessions/$SESSION/actions/$REFUND_ID/approve" | jq -r .status
curl -s -H "$AUTH" -H "$JSON" -d '{"error_code":"psp_down","error_message":"payment provider unavailable"}' \
  "$CRA/v1/sessions/$SESSION/actions/$REFUND_ID/fail" | jq -r .status

# 8. End the session
curl -s -H "$AUTH" -H "$JSON" -d '{"reason":"completed"}' "$CRA/v1/sessions/$SESSION/end" | jq -r .status

# 9. Its trace: JSONL, one hash-chained event per line
curl -s -H "$AUTH" -H "Accept: application/x-ndjson" "$CRA/v1/traces/$SESSION" | jq -r .event_type

# 10. Verify the chain
curl -s -H "$AUTH" "$CRA/v1/traces/$SESSION/verify"; echo

# 11. The live stream (Server-Sent Events) replays the past events and ends after session.ended
curl -sN -H "$AUTH" "$CRA/v1/traces/$SESSION/stream" | grep -c '^id:'

# 12. No key, no answer
curl -s "$CRA/v1/sessions/$SESSION"; echo
