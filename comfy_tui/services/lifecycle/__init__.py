"""Version lifecycle: install any git ref, update in place with a rollback point, rehearse an
upgrade with the user's custom nodes, switch running instances, and roll back."""
