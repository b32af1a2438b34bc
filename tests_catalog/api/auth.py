"""JWT endpoints: obtain, refresh (rotating), verify, and logout (blacklists the refresh token)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from jbtestsuite.errors import ValidationFailed
from tests_catalog.api.serializers import LogoutSerializer


class TokenObtainView(jwt_views.TokenObtainPairView):
    """Exchange a username and password for an access token and a refresh token."""


class TokenRefreshView(jwt_views.TokenRefreshView):
    """Exchange a refresh token for a new access token and a new refresh token; the old one is blacklisted."""


class TokenVerifyView(jwt_views.TokenVerifyView):
    """200 when the token is valid, 401 otherwise."""


class LogoutView(APIView):
    """Blacklist your refresh token so it can no longer be refreshed. Needs your access token."""

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
        return Response(status=status.HTTP_204_NO_CONTENT)
