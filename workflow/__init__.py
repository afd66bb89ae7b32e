"""ClusterPact domain: models, workflow definitions and engine, guards and services.

Framework-free: nothing here imports Flask.
"""
