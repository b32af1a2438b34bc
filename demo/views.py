from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (a published demo credential that guards nothing)

# The welcome page learns who logged in from a signed query parameter rather than a session,
# so every run starts from the same state and nothing is stored server-side.
_LOGIN_SALT = "jbtestsuite.demo.login"
_LOGIN_MAX_AGE_S = 3600


# Exempt from CSRF: the form changes nothing, and test cases should be able to post it
# without first reading a token.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "")
    if request.method == "POST":
        if username == DEMO_USERNAME and request.POST.get("password", "") == DEMO_PASSWORD:
            token = signing.dumps(username, salt=_LOGIN_SALT)
            return redirect(f"{reverse('demo:welcome')}?token={token}")
        error = "Invalid username or password."
    else:
        error = ""
    return render(request, "demo/login.html", {"username": username, "error": error})


def page(template: str):
    """A page that is only its template (GET only): most of the demo site."""

    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, template)

    return view


@require_GET
def welcome(request: HttpRequest) -> HttpResponse:
    try:
        username = signing.loads(request.GET.get("token", ""), salt=_LOGIN_SALT, max_age=_LOGIN_MAX_AGE_S)
    except signing.BadSignature:
        return redirect("demo:login")
    return render(request, "demo/welcome.html", {"username": username})


# The project denies framing everywhere; this page exists to be framed by the page above.
iframe_inner = xframe_options_sameorigin(page("demo/iframe_inner.html"))
