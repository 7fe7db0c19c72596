"""Listings applications over the marketplace and property raw stores: monitor, property analysis, listing bot."""
