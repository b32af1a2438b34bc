"""JWT endpoints: obtain, refresh (rotating), verify, and logout.

Tokens carry the user's token generation (`gen`); logout, a password change and deactivation
raise it, and authentication refuses a token of an older generation. The token endpoint has
its own strict rate limits, per client address and per username.
"""

import hashlib

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken

from jbtestsuite.errors import ValidationFailed
from tests_catalog import services
from tests_catalog.api.authentication import GENERATION_CLAIM, generation_check
from tests_catalog.api.serializers import LogoutSerializer
from tests_catalog.models import TokenGeneration


def _token_checked(token) -> None:
    user_id = token.get(jwt_settings.USER_ID_CLAIM)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    if user is None or not user.is_active:
        raise InvalidToken("The token's user is gone or inactive.")
    generation_check(token, TokenGeneration.objects.filter(user=user).first())


class TokenObtainPairSerializer(jwt_serializers.TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        token[GENERATION_CLAIM] = services.token_generation_of(user)
        return token


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    def validate(self, attrs):
        try:
            _token_checked(RefreshToken(attrs["refresh"]))
        except TokenError as error:
            raise InvalidToken(str(error)) from None
        return super().validate(attrs)


class TokenVerifySerializer(jwt_serializers.TokenVerifySerializer):
    def validate(self, attrs):
        verified = super().validate(attrs)
        _token_checked(UntypedToken(attrs["token"]))
        return verified


class LoginAddressThrottle(SimpleRateThrottle):
    """Login attempts per client address."""

    scope = "login_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(SimpleRateThrottle):
    """Login attempts per username, from any address (a password guessed from many machines)."""

    scope = "login_username"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username:
            return None  # refused by the serializer anyway; the address limit still counts it
        ident = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenObtainView(jwt_views.TokenObtainPairView):
    """Exchange a username and password for an access token and a refresh token."""

    serializer_class = TokenObtainPairSerializer
    throttle_classes = [LoginAddressThrottle, LoginUsernameThrottle]

    def throttled(self, request, wait):
        raise exceptions.Throttled(
            wait, detail="Too many login attempts from this address or for this username; try again later."
        )


class TokenRefreshView(jwt_views.TokenRefreshView):
    """Exchange a refresh token for a new access token and a new refresh token; the old one is blacklisted."""

    serializer_class = TokenRefreshSerializer


class TokenVerifyView(jwt_views.TokenVerifyView):
    """200 when the token is valid and not revoked, 401 otherwise."""

    serializer_class = TokenVerifySerializer


class LogoutView(APIView):
    """Log out everywhere: every access and refresh token you hold stops working at once."""

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
        except TokenError as error:
            raise ValidationFailed("The refresh token is invalid.", {"refresh": [str(error)]}) from None
        if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(request.user.pk):
            message = "This refresh token belongs to someone else."
            raise ValidationFailed(message, {"refresh": [message]})
        token.blacklist()
        services.user_tokens_revoke(user_id=request.user.pk, reason="logout")
        return Response(status=status.HTTP_204_NO_CONTENT)
