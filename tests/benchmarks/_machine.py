"""The machine line every benchmark prints: cores, Python, the database and its
version, and how loaded the machine was (others may share it)."""

import os
import platform

from django.db import connection


def machine() -> str:
    version = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
    else:
        import sqlite3

        version = sqlite3.sqlite_version
    # Others may share the machine: the load says how quiet it was.
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, {connection.vendor} {version}, load average "
            f"{os.getloadavg()[1]:.1f} (5 min)")
