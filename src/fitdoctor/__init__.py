"""fitdoctor."""
