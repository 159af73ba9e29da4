"""Contacts: leads from the widget's form, verified visitors of host sites, and their CSV export."""
