"""The consultation summary ("Sammanställning av inspel") and the organisations' answers view."""
