"""Demo data of the registry core: two offices, staff for every role, residents and
the standard catalogue. Safe to run again: it creates only what is missing."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from registry.models import Office, Resident, Role
from registry.services.offices import catalogue_seed, office_create
from registry.services.residents import resident_register
from registry.services.staff import roles_sync, staff_membership_grant

DEMO_PASSWORD = "eopen-demo-2026"  # noqa: S105 - printed for demo logins

OFFICES = [
    {
        "code": "3275",
        "name": "Disdukcapil Kota Bekasi",
        "prefix": "kota",
        "address": "Jl. Ir. H. Juanda No. 100, Margahayu, Bekasi Timur, Kota Bekasi 17113",
        "latitude": "-6.235000", "longitude": "107.006000",
        "website": "https://disdukcapil.bekasikota.go.id",
        "instagram": "@disdukcapilkotabekasi",
        "facebook": "Disdukcapil Kota Bekasi",
        "x_account": "@dukcapilbekasi",
        "youtube": "Disdukcapil Kota Bekasi",
        "email": "disdukcapil@bekasikota.go.id",
        "whatsapp": "+6281100003275",
    },
    {
        "code": "3216",
        "name": "Disdukcapil Kabupaten Bekasi",
        "prefix": "kab",
        "address": "Kompleks Perkantoran Pemkab Bekasi, Desa Sukamahi, Cikarang Pusat 17530",
        "latitude": "-6.363000", "longitude": "107.172000",
        "website": "https://disdukcapil.bekasikab.go.id",
        "instagram": "@disdukcapilkabbekasi",
        "facebook": "Disdukcapil Kabupaten Bekasi",
        "x_account": "@disdukcapilkab",
        "youtube": "Disdukcapil Kabupaten Bekasi",
        "email": "disdukcapil@bekasikab.go.id",
        "whatsapp": "+6281100003216",
    },
]

ROLE_USERNAMES = {
    Role.OFFICE_ADMIN: "admin",
    Role.FRONT_DESK: "frontdesk",
    Role.COUNTER_OPERATOR: "operator",
    Role.SUPERVISOR: "supervisor",
    Role.COURIER: "courier",
    Role.PUBLIC_RELATIONS: "humas",
}

# (nik, name, birth date, sex, phone, kecamatan, kelurahan, address, lat, lon)
RESIDENTS = [
    # The resident of the Kota Bekasi case in DESIGN.md, and his wife.
    ("3275011203850001", "Budi Santoso", date(1985, 3, 12), "M", "081234500001",
     "Bekasi Timur", "Margahayu", "Jl. Melati No. 7 RT 03/RW 05", "-6.238100", "107.010200"),
    ("3275014507880002", "Siti Rahmawati", date(1988, 7, 5), "F", "081234500002",
     "Bekasi Timur", "Margahayu", "Jl. Melati No. 7 RT 03/RW 05", "-6.238100", "107.010200"),
    ("3275026001950003", "Rina Marlina", date(1995, 1, 20), "F", "081234500003",
     "Bekasi Barat", "Kranji", "Jl. Kenanga No. 12", "-6.226500", "106.978900"),
    ("3275030808000004", "Dedi Kurniawan", date(2000, 8, 8), "M", "081234500004",
     "Rawalumbu", "Bojong Rawalumbu", "Perum Bumi Bekasi Baru Blok C/9", "-6.270100",
     "107.001000"),
    # The date in this NIK disagrees with the birth date on record: flagged for staff.
    ("3275041510900005", "Agus Prasetyo", date(1990, 10, 16), "M", "081234500005",
     "Bekasi Selatan", "Kayuringin Jaya", "Jl. Cut Mutia No. 3", "-6.247000", "106.991000"),
    ("3216052011900006", "Andi Wijaya", date(1990, 11, 20), "M", "081234500006",
     "Cikarang Utara", "Karangasih", "Jl. Raya Industri No. 45", "-6.280000", "107.150000"),
    ("3216064403920007", "Dewi Lestari", date(1992, 3, 4), "F", "081234500007",
     "Tambun Selatan", "Mekarsari", "Perum Mekarsari Blok D/2", "-6.262000", "107.060000"),
]


@transaction.atomic
def seed(*, stdout=None) -> dict:
    user_model = get_user_model()
    roles_sync()
    offices = {}
    for spec in OFFICES:
        spec = dict(spec)
        prefix = spec.pop("prefix")
        office = Office.objects.filter(code=spec["code"]).first()
        if office is None:
            office = office_create(
                code=spec.pop("code"), name=spec.pop("name"), address=spec.pop("address"),
                **spec)
        catalogue_seed(office=office)
        offices[prefix] = office
        for role, suffix in ROLE_USERNAMES.items():
            user, created = user_model.objects.get_or_create(
                username=f"{prefix}.{suffix}",
                defaults={"first_name": str(Role(role).label), "last_name": office.name},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            staff_membership_grant(user=user, office=office, role=role)

    provincial, created = user_model.objects.get_or_create(
        username="jabar.supervisor",
        defaults={"first_name": "Pengawas", "last_name": "Provinsi Jawa Barat"})
    if created:
        provincial.set_password(DEMO_PASSWORD)
        provincial.save()
    for office in offices.values():
        staff_membership_grant(user=provincial, office=office,
                               role=Role.PROVINCIAL_SUPERVISOR)

    superuser, created = user_model.objects.get_or_create(
        username="admin", defaults={"is_superuser": True, "is_staff": True})
    if created:
        superuser.set_password(DEMO_PASSWORD)
        superuser.save()

    for nik, name, born, sex, phone, kecamatan, kelurahan, address, lat, lon in RESIDENTS:
        if Resident.objects.filter(nik=nik).exists():
            continue
        resident = resident_register(
            nik=nik, name=name, birth_date=born, sex=sex, phone=phone, address=address,
            kecamatan=kecamatan, kelurahan=kelurahan)
        # Demo residents sign in with their phone (the code is in the worker's log): it
        # is bound, as if they had confirmed it at the desk.
        Resident.objects.filter(pk=resident.pk).update(
            latitude=lat, longitude=lon, phone_bound_at=timezone.now() if phone else None)
    return {"offices": offices, "password": DEMO_PASSWORD}
