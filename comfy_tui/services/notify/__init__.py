"""Notifications: what happened (jobs, instances, downloads, installs) and where it is told."""
