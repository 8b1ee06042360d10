"""Names of the delivery domain's tables (read by other domains and by tests)."""

from __future__ import annotations

#: campaign_id|user_id -> last status, attempt, message_id, content_sha256, at.
#: The proof of notice, and the guard of "at most one email per pair".
DELIVERY_LEDGER = "deliveries"

#: user_id -> sha256 of the addresses that hard-bounced (never the address).
SUPPRESSION_TABLE = "suppression"
