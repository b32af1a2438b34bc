"""The API schema's view of our token classes: simplejwt's own schema extensions, retargeted."""

from drf_spectacular.contrib import rest_framework_simplejwt as simplejwt_schema


class RevocableJWTScheme(simplejwt_schema.SimpleJWTScheme):
    target_class = "tests_catalog.api.authentication.RevocableJWTAuthentication"


class TokenObtainPairSerializerExtension(simplejwt_schema.TokenObtainPairSerializerExtension):
    target_class = "tests_catalog.api.auth.TokenObtainPairSerializer"


class TokenRefreshSerializerExtension(simplejwt_schema.TokenRefreshSerializerExtension):
    target_class = "tests_catalog.api.auth.TokenRefreshSerializer"


class TokenVerifySerializerExtension(simplejwt_schema.TokenVerifySerializerExtension):
    target_class = "tests_catalog.api.auth.TokenVerifySerializer"
