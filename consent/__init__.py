"""The consent registry: donors, programs, consent events, receipts and the transparency log."""
