"""The catalog's REST API: thin serializers and views over `services` and `selectors`."""
