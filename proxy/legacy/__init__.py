"""The legacy side: parsing v1/v2 requests, legacy envelopes and legacy error bodies."""
