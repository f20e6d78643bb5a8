"""One module per Personio resource family: renderers (data model -> API shape) and route handlers."""
