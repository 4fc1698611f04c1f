"""Interviewer mode: staff enter one respondent after another (face to face, phone, event,
paper), correct their own entries, and keep working when the network drops."""
