"""Project middleware: a strict Content-Security-Policy and the choice of language."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # The Django admin and the API docs ship inline scripts/styles of their own.
        if not request.path.startswith(("/admin/", "/api/docs/")):
            response.headers.setdefault("Content-Security-Policy", POLICY)
        return response


class LanguageMiddleware:
    """Norwegian bokmål first, English second (DEVELOPERS: Language).

    Pages: the language the user chose (cookie set by the language switch), else the user's
    saved preference, else bokmål; the browser's Accept-Language is not used, since many
    Norwegians run English browsers. An API client's Accept-Language comes first.
    Must come after AuthenticationMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self._language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        return response

    @staticmethod
    def _language(request: HttpRequest) -> str:
        supported = {code for code, _name in settings.LANGUAGES}
        if request.path.startswith("/api/") and "HTTP_ACCEPT_LANGUAGE" in request.META:
            return translation.get_language_from_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen in supported:
            return chosen
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in supported:
            return user.language
        return settings.LANGUAGE_CODE
