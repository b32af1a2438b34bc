import structlog


def request_id_echo(get_response):
    """Return the request id (bound by django-structlog) in the `X-Request-ID` response header."""

    def middleware(request):
        response = get_response(request)
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            response["X-Request-ID"] = request_id
        return response

    return middleware
