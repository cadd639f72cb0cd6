"""Evaluation toolkit: synthetic cohorts, replay as the live service alerts, metrics, sweeps."""
