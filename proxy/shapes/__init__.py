"""Pure reshapers between JSON:API resources and legacy objects. No I/O here."""
