"""The differential-privacy engine: query model, OpenDP mechanisms, budget ledger, releases, extracts."""
