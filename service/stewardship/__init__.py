"""Stewardship: value frameworks (Triple Aim outcomes, resources, costs), their monthly
dashboards, and STAR interventions with what-if scenarios."""
