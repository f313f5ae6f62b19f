"""Named steps for mapping entries that YAML cannot express (`handler: module.function`)."""
