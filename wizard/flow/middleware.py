def setup_reference(get_response):
    """Name the setup a response is about in an X-Setup-Reference header, for the access log
    (wizard/gunicorn.conf.py): the link's token, which is a bearer credential, is kept out of it."""

    def middleware(request):
        response = get_response(request)
        reference = getattr(request, "setup_reference", "")
        if reference:
            response["X-Setup-Reference"] = reference
        return response

    return middleware
