"""The mapping table: mappings/*.yaml loaded, schema-checked and compiled once."""
