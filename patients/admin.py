"""Patients are not in the Django admin.

The admin is for user accounts (README, Roles). A patient admin would show every
field — names included — to the Admin role, which may read patients by code only,
and would bypass the care-team restriction of ``thalimon.access.patient_for``.
Patients are read and edited through the app's own pages, which go through it.
"""
