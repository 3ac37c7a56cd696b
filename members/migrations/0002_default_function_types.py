"""The shipped function types (issue 2, P-10): what each grants, and where it can be held."""

from django.db import migrations

ALL = [
    "persons.view", "persons.edit", "organisations.manage", "functions.manage",
    "members.manage", "billing.manage", "claims.approve", "transfers.admin",
    "rescheduling.decide", "duplicates.merge", "admin.access",
]
CLUB_ADMIN = [
    "persons.view", "persons.edit", "organisations.manage", "functions.manage",
    "members.manage", "billing.manage", "claims.approve",
]
BELOW_CLUB = ["club", "group", "team"]

# (number, code, Norwegian name, description, capabilities, organisation types)
FUNCTION_TYPES = [
    (1, "member", "Medlem", "Member of a club.", [], ["club"]),
    (2, "player", "Spiller", "Active player or competitor.", [], BELOW_CLUB),
    (3, "coach", "Trener", "Coach of a team or group.", ["persons.view"], BELOW_CLUB),
    (4, "head-coach", "Hovedtrener", "Head coach of a team.", ["persons.view"], BELOW_CLUB),
    (5, "assistant-coach", "Assistenttrener", "Assistant coach.", ["persons.view"], BELOW_CLUB),
    (6, "team-leader", "Lagleder", "Team leader: sees the team's players.", ["persons.view"],
     ["team", "group"]),
    (7, "board-member", "Styremedlem", "Member of a board.", ["persons.view", "members.manage"],
     []),
    (8, "chair", "Styreleder", "Chair of a board.", CLUB_ADMIN, []),
    (9, "general-manager", "Daglig leder", "General manager of a club.", CLUB_ADMIN,
     ["club", "region", "federation"]),
    (10, "treasurer", "Kasserer", "Treasurer.", ["persons.view", "members.manage",
                                                  "billing.manage"], []),
    (11, "membership-registrar", "Medlemsansvarlig", "Keeps the member register.",
     ["persons.view", "persons.edit", "members.manage", "functions.manage"], []),
    (12, "referee", "Dommer", "Referee.", [], []),
    (13, "claims-approver", "Godkjenner av dommerregninger", "Approves referee claims (C-05).",
     ["claims.approve"], BELOW_CLUB),
    (14, "transfer-administrator", "Overgangsansvarlig", "Administers transfers (P-15).",
     ["persons.view", "transfers.admin"], ["federation", "region", "club"]),
    (15, "federation-staff", "Forbundsansatt", "Staff of a federation or region.", ALL,
     ["federation", "region"]),
    (16, "volunteer", "Frivillig", "Volunteer.", [], []),
]


def create_function_types(apps, schema_editor):
    FunctionType = apps.get_model("members", "FunctionType")
    for number, code, name, description, capabilities, types in FUNCTION_TYPES:
        FunctionType.objects.update_or_create(
            code=code,
            defaults={
                "number": number,
                "name": name,
                "description": description,
                "capabilities": capabilities,
                "organisation_types": types,
            },
        )


def delete_function_types(apps, schema_editor):
    FunctionType = apps.get_model("members", "FunctionType")
    Function = apps.get_model("members", "Function")
    codes = [row[1] for row in FUNCTION_TYPES]
    unused = FunctionType.objects.filter(code__in=codes).exclude(
        pk__in=Function.objects.values("function_type_id")
    )
    unused.delete()


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(create_function_types, delete_function_types)]
