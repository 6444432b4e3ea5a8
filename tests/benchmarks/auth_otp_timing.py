"""How long `POST /api/v1/auth/otp/` takes in each case a stranger could try to tell
apart (issue 12): a registered NIK with its bound phone (the code is sent), the same
with another phone, a phone-less NIK, an unknown NIK without the registration fields;
the last three again with a wrong activation code; and, for reference, a
self-registration (its code is sent: it differs by design, as the code arrives).

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_1 \\
        .venv/bin/python -m tests.benchmarks.auth_otp_timing [--requests 300]

It creates its own test database (dropped at the end; on SQLite, in memory), with one
resident per request so no case's throttle counts differ, and sends the requests in
process through Django's test client (the whole middleware and view, the database
statements and the after-commit queueing of the sending task on the in-memory broker;
not the network, whose noise would only hide the differences). The cases take turns,
request by request, so a busy moment of the machine falls on all of them. Reports the
median and 90th percentile per case in milliseconds, and the spread of the medians in
each group that must not be told apart (without a code; with a wrong code).
"""

import argparse
import random
import statistics
import time

from tests.benchmarks import queues_common as common  # sets up Django, test settings

WITHOUT_CODE = ["sent (bound phone)", "registered, other phone", "phone-less",
                "unknown NIK, no fields"]
WRONG_CODE = ["registered, other phone, wrong code", "phone-less, wrong code",
              "unknown NIK, wrong code"]
REFERENCE = "self-registration"
CASES = [*WITHOUT_CODE, *WRONG_CODE, REFERENCE]


def build(requests: int, rng: random.Random):
    """One request body per case and round, and the residents they need."""
    from registry import otp
    from registry.models import Role
    from registry.services.offices import office_create
    from registry.services.staff import roles_sync, staff_membership_grant
    from tests.factories import ResidentFactory, UserFactory, make_nik

    roles_sync()
    office = office_create(code="3275", name="Disdukcapil Kota Bekasi")
    desk = UserFactory(username="loket")
    staff_membership_grant(user=desk, office=office, role=Role.FRONT_DESK)
    bodies = {case: [] for case in CASES}
    for n in range(requests):
        def wrong_code():
            return "".join(rng.choice("ACDEFGHJ") for _ in range(8))

        bound = ResidentFactory(domicile_office=office, phone=f"+62813{n:08d}")
        other = ResidentFactory(domicile_office=office, phone=f"+62814{n:08d}")
        other_coded = ResidentFactory(domicile_office=office, phone=f"+62812{n:08d}")
        phoneless = ResidentFactory(domicile_office=office, phone="")
        with_code = ResidentFactory(domicile_office=office, phone="")
        # The residents a wrong code is tried on hold a live code from the desk.
        for resident in (other_coded, with_code):
            otp.activation_code_issue(office=office, resident=resident, by=desk)
        bodies["sent (bound phone)"].append({"nik": bound.nik, "phone": bound.phone})
        bodies["registered, other phone"].append({"nik": other.nik,
                                                  "phone": f"+62815{n:08d}"})
        bodies["phone-less"].append({"nik": phoneless.nik, "phone": f"+62816{n:08d}"})
        bodies["unknown NIK, no fields"].append({"nik": make_nik(),
                                                 "phone": f"+62818{n:08d}"})
        bodies["registered, other phone, wrong code"].append({
            "nik": other_coded.nik, "phone": f"+62811{n:08d}", "activation_code": wrong_code()})
        bodies["phone-less, wrong code"].append({
            "nik": with_code.nik, "phone": f"+62817{n:08d}", "activation_code": wrong_code()})
        bodies["unknown NIK, wrong code"].append({
            "nik": make_nik(), "phone": f"+62810{n:08d}", "activation_code": wrong_code()})
        bodies[REFERENCE].append({"nik": make_nik(), "phone": f"+62819{n:08d}",
                                  "name": "Warga Baru", "birth_date": "1990-05-17"})
    return bodies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="per case")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    from django.db import connection
    from django.test import Client

    rng = random.Random(args.seed)
    # The default throttle: each request has a NIK, a phone and an address of its own.
    with common.bench_database("otp"):
        bodies = build(args.requests + 20, rng)
        client = Client()
        times = {case: [] for case in bodies}
        order = list(bodies)
        for n in range(args.requests + 20):
            rng.shuffle(order)
            for case in order:
                address = f"10.{n // 250}.{n % 250}.{order.index(case) + 1}"
                started = time.perf_counter()
                response = client.post("/api/v1/auth/otp/", bodies[case][n],
                                       content_type="application/json",
                                       REMOTE_ADDR=address)
                elapsed = time.perf_counter() - started
                if response.status_code != 202:
                    raise SystemExit(f"{case}: {response.status_code} {response.content!r}")
                if n >= 20:  # the first rounds warm the caches and connections
                    times[case].append(elapsed * 1000)
        medians = {case: statistics.median(values) for case, values in times.items()}
        print(f"POST /api/v1/auth/otp/, {args.requests} requests per case, in process, "
              f"{connection.vendor}:")
        for case in CASES:
            values = sorted(times[case])
            print(f"  {case:37s} median {medians[case]:6.2f} ms  "
                  f"p90 {values[int(len(values) * 0.9)]:6.2f} ms")
        for label, group in (("without a code", WITHOUT_CODE),
                             ("with a wrong code", WRONG_CODE)):
            low, high = (min(medians[c] for c in group), max(medians[c] for c in group))
            print(f"spread of the medians {label}: {high - low:.2f} ms "
                  f"({(high - low) / low * 100:.1f}%)")
        print(f"machine: {common.machine()}")


if __name__ == "__main__":
    main()
