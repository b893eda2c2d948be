"""Buyers' personal data under the GDPR: how long each store keeps it (retention), handing a buyer
everything held about them (export), and removing it on request (erasure).

Where a buyer's personal data is held, and how each place is cleaned, is listed once in `places.py`;
the SQL functions that take it out of documents (`sql/privacy_functions.sql`) and the triggers that
keep a removed order removed when its channel sends it again live in the database itself.
"""
