"""Locust users, one module per kind of the portal's traffic."""
