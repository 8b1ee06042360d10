"""Names of the delivery domain's tables (read by other domains and by tests).

"Ledger" in preavis means one thing only: the campaign ledger
(``preavis.campaign-ledger``, folded into each campaign's status by
:mod:`notifications.ledger_step`). What delivery keeps per (campaign, user) is
the *deliveries table*, and each of its values the pair's *delivery status*.

The names below are on the wire: a table's name is part of its changelog
topic's name, which holds every worker's state. Renaming one would start an
empty table beside the old changelog and orphan its data (and with it the
guard of "at most one email per pair"), so they stay as they are.
"""

from __future__ import annotations

#: campaign_id|user_id -> last status, attempt, message_id, content_sha256, at.
#: The proof of notice, and the guard of "at most one email per pair".
DELIVERIES_TABLE = "deliveries"

#: user_id -> sha256 of the addresses that hard-bounced (never the address).
SUPPRESSION_TABLE = "suppression"
