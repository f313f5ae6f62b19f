"""Migration staging: explain what a legacy call becomes, inventory what is used,
signal deprecation, pass new-API calls through, and describe the legacy surface."""
