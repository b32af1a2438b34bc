"""API authentication: simplejwt's, refusing tokens of an older generation (see auth.py).

Kept apart from the token views: DRF imports this module while its own views module loads.
"""

from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

GENERATION_CLAIM = "gen"
REVOKED_MESSAGE = "This token was revoked (logout, password change or deactivation); log in again."


def generation_check(token, state) -> None:
    """Raise InvalidToken unless the token belongs to the user's current generation.

    `state` is the user's TokenGeneration, or None before their first revocation. Tokens the
    token endpoint issues carry their generation. Tokens without one (made before generations
    existed, or by `RefreshToken.for_user` in code) count when issued no earlier than the second
    of the last revocation.
    """
    if state is None:
        return
    if GENERATION_CLAIM in token.payload:
        if token[GENERATION_CLAIM] != state.generation:
            raise InvalidToken(REVOKED_MESSAGE)
    elif state.revoked_at is not None and token.get("iat", 0) < int(state.revoked_at.timestamp()):
        raise InvalidToken(REVOKED_MESSAGE)


class RevocableJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication plus the generation check, in the same single user query."""

    def get_user(self, validated_token):
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken("The token names no user.") from None
        user = get_user_model().objects.select_related("token_generation").filter(pk=user_id).first()
        if user is None:
            raise exceptions.AuthenticationFailed("User not found.", code="user_not_found")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive.", code="user_inactive")
        generation_check(validated_token, getattr(user, "token_generation", None))
        return user
