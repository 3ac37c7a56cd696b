"""Data for the person register (issue 3):
- every person gets a standard contact set (P-08) from the contact columns that lived on the
  person until now;
- every person gets a sports id (P-05);
- a licensed player function type (P-15) and a few common competence types (P-13).
Reversible: contact data goes back onto the person."""

from django.db import migrations

GENDER_DIGITS = {"male": "1", "female": "2"}


def sports_id(birth_date, gender, serial):
    # Same format as members.rules.format_sports_id (kept here so the migration never changes).
    born = birth_date.strftime("%d%m%y") if birth_date else "000000"
    return f"{born}{GENDER_DIGITS.get(gender, '0')}{serial:07d}"


def forwards(apps, schema_editor):
    Person = apps.get_model("members", "Person")
    ContactSet = apps.get_model("members", "ContactSet")
    FunctionType = apps.get_model("members", "FunctionType")
    CompetenceType = apps.get_model("members", "CompetenceType")
    connection = schema_editor.connection
    batch = []
    for person in Person.objects.order_by("pk").iterator(chunk_size=2000):
        batch.append(ContactSet(
            person_id=person.pk, label="Privat", is_standard=True, street=person.street,
            postcode=person.postcode, city=person.city, country=person.country or "NO",
            email=person.email, mobile=person.phone,
        ))
        if len(batch) >= 2000:
            ContactSet.objects.bulk_create(batch)
            batch = []
    ContactSet.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        for person in Person.objects.filter(sports_id__isnull=True).order_by("pk").iterator():
            cursor.execute("SELECT nextval('members_sports_id_serial')")
            (serial,) = cursor.fetchone()
            Person.objects.filter(pk=person.pk).update(
                sports_id=sports_id(person.birth_date, person.gender, serial)
            )
    FunctionType.objects.update_or_create(
        code="licensed-player",
        defaults={
            "number": 17, "name": "Lisensspiller",
            "description": "Player with a licence: one at a time per person (P-15).",
            "capabilities": [], "organisation_types": ["club", "group"], "is_licensed": True,
        },
    )
    for code, name in [
        ("coach-1", "Trener 1"), ("coach-2", "Trener 2"), ("coach-3", "Trener 3"),
        ("referee", "Dommerkurs"), ("first-aid", "Førstehjelp"),
        ("police-certificate", "Politiattest"),
    ]:
        CompetenceType.objects.get_or_create(code=code, defaults={"name": name})


def backwards(apps, schema_editor):
    Person = apps.get_model("members", "Person")
    ContactSet = apps.get_model("members", "ContactSet")
    for contact in ContactSet.objects.filter(is_standard=True).iterator():
        Person.objects.filter(pk=contact.person_id).update(
            street=contact.street, postcode=contact.postcode, city=contact.city,
            country=contact.country, email=contact.email, phone=contact.mobile,
        )
    ContactSet.objects.all().delete()
    Person.objects.update(sports_id=None)
    apps.get_model("members", "FunctionType").objects.filter(
        code="licensed-player", functions__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("members", "0005_person_register")]

    operations = [migrations.RunPython(forwards, backwards)]
