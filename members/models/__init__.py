"""Models of the members app, one module per area; imported here so Django finds them."""

from members.models.competences import Competence, CompetenceType
from members.models.functions import Function, FunctionContact, FunctionQuerySet, FunctionType
from members.models.licences import (
    Licence,
    LicenceEvent,
    LicencePeriod,
    LicenceStatus,
    LicenceType,
    SendingMethod,
)
from members.models.memberships import (
    Family,
    GuardianRelation,
    Membership,
    MembershipCategory,
    MembershipStatus,
    MembershipType,
    MembershipVerification,
    PeriodKind,
    VerificationChannel,
    VerificationStatus,
)
from members.models.organisations import (
    ORGANISATION_DATA_FIELDS,
    ORGANISATION_LEVELS,
    KidAlgorithm,
    Organisation,
    OrganisationType,
)
from members.models.persons import (
    BankAccount,
    BankAccountType,
    ContactSet,
    Fold,
    Gender,
    Person,
    SportsIdHistory,
    User,
)
from members.models.transfers import Transfer, TransferEvent, TransferStatus, TransferType

__all__ = [
    "ORGANISATION_DATA_FIELDS",
    "ORGANISATION_LEVELS",
    "BankAccount",
    "BankAccountType",
    "Competence",
    "CompetenceType",
    "ContactSet",
    "Family",
    "Fold",
    "Function",
    "FunctionContact",
    "FunctionQuerySet",
    "FunctionType",
    "Gender",
    "GuardianRelation",
    "KidAlgorithm",
    "Licence",
    "LicenceEvent",
    "LicencePeriod",
    "LicenceStatus",
    "LicenceType",
    "Membership",
    "MembershipCategory",
    "MembershipStatus",
    "MembershipType",
    "MembershipVerification",
    "Organisation",
    "OrganisationType",
    "PeriodKind",
    "Person",
    "SendingMethod",
    "SportsIdHistory",
    "Transfer",
    "TransferEvent",
    "TransferStatus",
    "TransferType",
    "User",
    "VerificationChannel",
    "VerificationStatus",
]
