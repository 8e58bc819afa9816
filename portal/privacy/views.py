"""GET, PATCH and DELETE /api/me, and GET /api/me/export. GET and PATCH are the accounts
view's; erasure and the export are added here, above the apps whose data they reach."""

import json

from django.contrib.auth import logout
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts import views as accounts_views
from portal.api import BodyInput, rate_limited, require_user, validated
from portal.openapi import documented_error, serializer_for
from portal.privacy import erasure, shapes
from portal.privacy.erasure import TeachesCourses
from portal.privacy.export import account_export

AccountExportSchema = serializer_for(shapes.AccountExport)


class EraseInput(BodyInput):
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class MeView(accounts_views.MeView):
    @extend_schema(
        operation_id="me_destroy",
        request=EraseInput,
        responses={204: None, 409: documented_error(409, TeachesCourses)},
    )
    @rate_limited("account_delete", per_user=True)
    def delete(self, request: Request) -> Response:
        """Erase the account: what is deleted and what is kept (anonymised, for
        accounting) is portal.privacy.erasure's docstring."""
        data = validated(EraseInput, request.data)
        erasure.account_erase(user=require_user(request), password=data["password"])
        if not isinstance(request.auth, str):
            logout(request._request)  # this browser: its cookie goes with the answer
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="me_export", responses={200: AccountExportSchema})
    @rate_limited("account_export", per_user=True)
    def get(self, request: Request) -> HttpResponse:
        user = require_user(request)
        body = account_export(user=user)
        response = HttpResponse(
            json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        filename = f"learning-portal-export-{user.pk}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
