"""API for memberships, families and membership types (issue 5):
/api/v1/memberships/, /api/v1/families/, /api/v1/membership-types/.

Input and output serializers are kept apart; querysets come from the selectors built on
clubadmin.access (a user sees the memberships they may manage and their own); writes go
through members.services.memberships and members.services.verification, which check
members.manage. The person, club and family of a membership never change through an update.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from clubadmin import access
from clubadmin.capabilities import Capability
from members import membership_rules, selectors_memberships
from members.api.common import RejectImmutableFieldsMixin
from members.forms_memberships import INVALID_MOBILE
from members.models import (
    Family,
    Gender,
    Membership,
    MembershipCategory,
    MembershipType,
    MembershipVerification,
    Organisation,
    OrganisationType,
    PeriodKind,
    Person,
    VerificationChannel,
)
from members.services import memberships as membership_services
from members.services import verification as verification_services

# The join inputs' `send_verification` value for "no link now".
DO_NOT_SEND = "none"

# ------------------------------------------------------------------------------ output


class MemberPersonOutput(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ["id", "first_name", "middle_name", "last_name", "birth_date"]


class MembershipOutput(serializers.ModelSerializer):
    person = MemberPersonOutput()
    status = serializers.CharField(help_text="pending_verification, active or ended")
    club_name = serializers.CharField(source="club.name")
    membership_type_name = serializers.CharField(source="membership_type.name")
    category = serializers.CharField(source="membership_type.category")
    verification_status = serializers.CharField(allow_null=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "person",
            "club",
            "club_name",
            "membership_type",
            "membership_type_name",
            "category",
            "family",
            "status",
            "start_date",
            "end_date",
            "resignation_received_on",
            "verification_status",
        ]


class FamilyMemberOutput(serializers.ModelSerializer):
    person = MemberPersonOutput()
    status = serializers.CharField(help_text="pending_verification, active or ended")
    membership_type_name = serializers.CharField(source="membership_type.name")

    class Meta:
        model = Membership
        fields = ["id", "person", "membership_type", "membership_type_name", "status", "start_date"]


class FamilyOutput(serializers.ModelSerializer):
    club_name = serializers.CharField(source="club.name")
    contact_person = MemberPersonOutput()
    member_count = serializers.IntegerField()
    members = FamilyMemberOutput(source="current_members", many=True)

    class Meta:
        model = Family
        fields = ["id", "club", "club_name", "name", "contact_person", "member_count", "members"]


class MembershipTypeOutput(serializers.ModelSerializer):
    class Meta:
        model = MembershipType
        fields = ["id", "club", "code", "name", "category", "period_kind", "is_active"]


class VerificationOutput(serializers.ModelSerializer):
    channel = serializers.CharField(help_text="email or sms")
    status = serializers.CharField(help_text="not_sent, sent, verified or failed (S-08)")

    class Meta:
        model = MembershipVerification
        fields = ["id", "membership", "channel", "status", "failure_reason", "created_at"]


# ------------------------------------------------------------------------------- input


class NewPersonInput(serializers.Serializer):
    """A person not yet in the register; created with a standard contact set (P-08)."""

    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    birth_date = serializers.DateField(required=False, allow_null=True)
    gender = serializers.ChoiceField(choices=Gender.choices, default=Gender.UNKNOWN)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    mobile = serializers.CharField(required=False, allow_blank=True, default="", max_length=30)

    def validate_mobile(self, value: str) -> str:
        if not value.strip():
            return ""
        normalised = membership_rules.normalise_mobile(value)
        if normalised is None:
            raise serializers.ValidationError(INVALID_MOBILE)
        return normalised


class _ScopedInput(serializers.Serializer):
    """Related rows limited to what the requesting user may use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent when drf-spectacular builds the schema
        if request is None:
            return
        user = request.user
        querysets = {
            "club": access.visible_organisations(user).filter(
                organisation_type=OrganisationType.CLUB
            ),
            "person": access.scope(user, Capability.PERSONS_VIEW, Person.objects.all()),
            "contact_person": access.scope(user, Capability.PERSONS_VIEW, Person.objects.all()),
            "membership_type": access.scope(
                user, Capability.MEMBERS_MANAGE, MembershipType.objects.all()
            ),
            "family": access.scope(user, Capability.MEMBERS_MANAGE, Family.objects.all()),
            "membership": access.scope(
                user, Capability.MEMBERS_MANAGE, Membership.objects.all(), include_own=False
            ),
        }
        for name, queryset in querysets.items():
            if name in self.fields:
                self.fields[name].queryset = queryset


class _JoinInput(_ScopedInput):
    person = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.none(), required=False, allow_null=True
    )
    new_person = NewPersonInput(required=False)
    membership_type = serializers.PrimaryKeyRelatedField(queryset=MembershipType.objects.none())
    start_date = serializers.DateField(required=False)
    confirm_warnings = serializers.BooleanField(
        default=False, help_text="Confirm the warnings a first attempt returned (M-14)."
    )
    send_verification = serializers.ChoiceField(
        choices=[*VerificationChannel.choices, (DO_NOT_SEND, _("Do not send"))],
        default=DO_NOT_SEND,
        help_text="Send a verification link by e-mail or SMS once registered (M-14).",
    )

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        arguments = {
            "membership_type": data["membership_type"],
            "start_date": data.get("start_date"),
            "warnings_confirmed": data["confirm_warnings"],
            "verification_channel": (
                None if data["send_verification"] == DO_NOT_SEND else data["send_verification"]
            ),
        }
        if data.get("person") is not None:
            arguments["person"] = data["person"]
        if data.get("new_person"):
            arguments["new_person"] = data["new_person"]
        return arguments


class MembershipCreateInput(_JoinInput):
    club = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())
    family = serializers.PrimaryKeyRelatedField(
        queryset=Family.objects.none(), required=False, allow_null=True
    )


class MembershipUpdateInput(RejectImmutableFieldsMixin, _ScopedInput):
    immutable_fields = (
        "id",
        "person",
        "club",
        "family",
        "status",
        "end_date",
        "resignation_received_on",
    )
    membership_type = serializers.PrimaryKeyRelatedField(
        queryset=MembershipType.objects.none(), required=False
    )
    start_date = serializers.DateField(required=False)


class ResignInput(serializers.Serializer):
    received_on = serializers.DateField(required=False)


class EndInput(serializers.Serializer):
    end_date = serializers.DateField(required=False)


class SendVerificationInput(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=VerificationChannel.choices, default=VerificationChannel.EMAIL
    )


class FamilyCreateInput(_JoinInput):
    club = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())
    contact_person = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.none(), required=False, allow_null=True
    )
    person = None  # the family's first person is its contact person
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def service_arguments(self) -> dict[str, Any]:
        arguments = super().service_arguments()
        arguments["name"] = self.validated_data["name"]
        if self.validated_data.get("contact_person") is not None:
            arguments["contact_person"] = self.validated_data["contact_person"]
        return arguments


class FamilyAddMemberInput(_JoinInput):
    pass


class FamilyRemoveMemberInput(_ScopedInput):
    membership = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none())
    end_date = serializers.DateField(required=False)


class MembershipTypeCreateInput(_ScopedInput):
    club = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())
    code = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=100)
    category = serializers.ChoiceField(choices=MembershipCategory.choices)
    period_kind = serializers.ChoiceField(
        choices=PeriodKind.choices, default=PeriodKind.CALENDAR_YEAR
    )


# ---------------------------------------------------------------------------- viewsets


def _membership_output(request: Request, membership: Membership) -> dict:
    fresh = selectors_memberships.membership_list(user=request.user, status="all").get(
        pk=membership.pk
    )
    return MembershipOutput(fresh).data


def _club_param(request: Request) -> tuple[bool, Organisation | None]:
    """(given, club) for the `club` query parameter; a club the user cannot see is None."""
    value = request.query_params.get("club", "")
    if not value.isdigit():
        return False, None
    club = access.visible_organisations(request.user).filter(pk=int(value)).first()
    return True, club


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("club", int, description="Only memberships of this club"),
            OpenApiParameter(
                "status", str, enum=list(selectors_memberships.STATUS_FILTERS), default="all"
            ),
            OpenApiParameter("membership_type", int),
            OpenApiParameter("search", str, description="Start of the first or last name"),
        ]
    )
)
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Memberships the user may manage (members.manage in the club), and their own."""

    serializer_class = MembershipOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        params = self.request.query_params
        given, club = _club_param(self.request)
        if given and club is None:
            return Membership.objects.none()
        type_id = params.get("membership_type", "")
        return selectors_memberships.membership_list(
            user=self.request.user,
            club=club,
            status=params.get("status", "all") if self.action == "list" else "all",
            membership_type_id=int(type_id) if type_id.isdigit() else None,
            search=params.get("search", ""),
        )

    @extend_schema(request=MembershipCreateInput, responses={201: MembershipOutput})
    def create(self, request: Request) -> Response:
        """Join: an existing person (`person`) or a new one (`new_person`) joins the club.
        Warnings (M-14) come back as 400 under `confirm_warnings`; send again with
        `confirm_warnings: true` after checking them."""
        serializer = MembershipCreateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        membership = membership_services.membership_join(
            actor=request.user,
            club=serializer.validated_data["club"],
            family=serializer.validated_data.get("family"),
            base_url=request.build_absolute_uri("/"),
            **serializer.service_arguments(),
        )
        return Response(_membership_output(request, membership), status=status.HTTP_201_CREATED)

    @extend_schema(request=MembershipUpdateInput, responses={200: MembershipOutput})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        membership = self.get_object()
        serializer = MembershipUpdateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        membership = membership_services.membership_update(
            actor=request.user, membership=membership, **serializer.validated_data
        )
        return Response(_membership_output(request, membership))

    @extend_schema(request=ResignInput, responses={200: MembershipOutput})
    @action(detail=True, methods=["post"])
    def resign(self, request: Request, pk: str | None = None) -> Response:
        """The membership ends on the day the resignation was received (default today)."""
        membership = self.get_object()
        serializer = ResignInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_services.membership_resign(
            actor=request.user, membership=membership, **serializer.validated_data
        )
        return Response(_membership_output(request, membership))

    @extend_schema(request=EndInput, responses={200: MembershipOutput})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        membership = self.get_object()
        serializer = EndInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_services.membership_end(
            actor=request.user, membership=membership, **serializer.validated_data
        )
        return Response(_membership_output(request, membership))

    @extend_schema(request=SendVerificationInput, responses={201: VerificationOutput})
    @action(detail=True, methods=["post"], url_path="send-verification")
    def send_verification(self, request: Request, pk: str | None = None) -> Response:
        """Send (or resend) a verification link valid 24 hours (M-14, S-08); the earlier
        links of the membership stop working. Sending happens in the background."""
        membership = self.get_object()
        serializer = SendVerificationInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification = verification_services.verification_request(
            actor=request.user,
            membership=membership,
            channel=serializer.validated_data["channel"],
            base_url=request.build_absolute_uri("/"),
        )
        return Response(VerificationOutput(verification).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("club", int, description="Only families of this club"),
            OpenApiParameter("search", str, description="Family or contact person's name"),
        ]
    )
)
class FamilyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Families (M-11, D-01) in clubs where the user manages memberships."""

    serializer_class = FamilyOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        given, club = _club_param(self.request)
        if given and club is None:
            return Family.objects.none()
        return selectors_memberships.family_list(
            user=self.request.user,
            club=club,
            search=self.request.query_params.get("search", ""),
            with_members=True,
        )

    def _output(self, family: Family) -> dict:
        return FamilyOutput(self.get_queryset().get(pk=family.pk)).data

    @extend_schema(request=FamilyCreateInput, responses={201: FamilyOutput})
    def create(self, request: Request) -> Response:
        """A family whose contact person (`contact_person`, or `new_person`) joins first."""
        serializer = FamilyCreateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        family = membership_services.family_create(
            actor=request.user,
            club=serializer.validated_data["club"],
            base_url=request.build_absolute_uri("/"),
            **serializer.service_arguments(),
        )
        return Response(self._output(family), status=status.HTTP_201_CREATED)

    @extend_schema(request=FamilyAddMemberInput, responses={201: MembershipOutput})
    @action(detail=True, methods=["post"], url_path="add-member")
    def add_member(self, request: Request, pk: str | None = None) -> Response:
        family = self.get_object()
        serializer = FamilyAddMemberInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        membership = membership_services.family_add_member(
            actor=request.user,
            family=family,
            base_url=request.build_absolute_uri("/"),
            **serializer.service_arguments(),
        )
        return Response(_membership_output(request, membership), status=status.HTTP_201_CREATED)

    @extend_schema(request=FamilyRemoveMemberInput, responses={200: MembershipOutput})
    @action(detail=True, methods=["post"], url_path="remove-member")
    def remove_member(self, request: Request, pk: str | None = None) -> Response:
        """Only administrators remove family members (M-11): the family membership ends."""
        family = self.get_object()
        serializer = FamilyRemoveMemberInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        membership = membership_services.family_remove_member(
            actor=request.user, family=family, **serializer.validated_data
        )
        return Response(_membership_output(request, membership))


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("club", int, description="Only this club's types")]
    )
)
class MembershipTypeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Membership types of the clubs where the user manages memberships."""

    serializer_class = MembershipTypeOutput

    def get_queryset(self):  # type: ignore[no-untyped-def]
        given, club = _club_param(self.request)
        if given and club is None:
            return MembershipType.objects.none()
        return selectors_memberships.membership_type_list(user=self.request.user, club=club)

    @extend_schema(request=MembershipTypeCreateInput, responses={201: MembershipTypeOutput})
    def create(self, request: Request) -> Response:
        serializer = MembershipTypeCreateInput(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        membership_type = membership_services.membership_type_create(
            actor=request.user, **serializer.validated_data
        )
        return Response(MembershipTypeOutput(membership_type).data, status=status.HTTP_201_CREATED)


def register(router: DefaultRouter) -> None:
    router.register("memberships", MembershipViewSet, basename="membership")
    router.register("families", FamilyViewSet, basename="family")
    router.register("membership-types", MembershipTypeViewSet, basename="membership-type")
