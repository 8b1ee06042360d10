"""The address digests of notifications.addresses that stored data depends on."""

from __future__ import annotations

import hashlib

from notifications.addresses import address_digest, normalize_address, suppression_digest


def test_suppression_digest_is_the_plain_sha256_the_stored_entries_hold() -> None:
    # the suppression list already stored holds exactly this: it must keep matching
    expected = hashlib.sha256(b"ana@example.org").hexdigest()
    assert suppression_digest("ana@example.org") == expected
    assert suppression_digest("  Ana@Example.ORG ") == expected


def test_suppression_digest_is_not_the_keyed_index_digest() -> None:
    assert suppression_digest("ana@example.org") != address_digest(b"k" * 32, "ana@example.org")


def test_normalize_address_trims_and_lowers() -> None:
    assert normalize_address(" Ana@Example.ORG\n") == "ana@example.org"
