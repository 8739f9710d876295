"""Policy as code: the gates a model must pass before it is deployed."""
