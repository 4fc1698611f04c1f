"""Campaign links: tagged links to a survey for each outreach, with QR codes, and responses counted per tag."""
